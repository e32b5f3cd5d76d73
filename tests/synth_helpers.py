"""Synthesis helpers for construct and stack tests: cdk-nag and checkov findings, cfn-lint errors,
normalized templates."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
# The feature flags `cdk synth` applies, so tests synthesize what the CLI would.
CDK_CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]

# Tests synthesize without running bundling (pip) unless they test packaging itself.
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def new_app(bundling: bool = False, **context) -> cdk.App:
    ctx = {**CDK_CONTEXT, **context}
    if not bundling:
        ctx.update(NO_BUNDLING)
    return cdk.App(context=ctx)


def echo_code() -> lambda_.Code:
    """The echo fixture as function code, for tests of what surrounds a function rather than its handler."""
    return lambda_.Code.from_asset(str(FIXTURES / "echo"))


def stream_table(stack: cdk.Stack, id: str = "Table") -> dynamodb.TableV2:
    """A table with a NEW_AND_OLD_IMAGES stream a trigger can read and the point-in-time recovery cdk-nag asks
    for."""
    return dynamodb.TableV2(
        stack,
        id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )


def synth_with_nag(app: cdk.App):
    """Synthesize ``app`` with cdk-nag's AwsSolutions pack. Returns (assembly or None, findings): every
    unacknowledged finding, errors and warnings, each as {rule, resource, message}."""
    return synth_with_packs(app, ("AwsSolutions",))


def synth_with_rule_packs(app: cdk.App):
    """Synthesize ``app`` with cdk-nag's AwsSolutions and Serverless packs together; as ``synth_with_nag``."""
    return synth_with_packs(app, ("AwsSolutions", "Serverless"))


def synth_with_packs(app: cdk.App, packs):
    """Synthesize ``app`` with the named cdk-nag packs (``AwsSolutions``, ``Serverless``); as
    ``synth_with_nag``. A failed synth's report is read from where the error names it."""
    import cdk_nag

    plugins = [getattr(cdk_nag, f"{pack}Checks")(app) for pack in packs]
    cdk.Validations.of(app).add_plugins(*plugins)
    try:
        assembly = app.synth()
    except RuntimeError as error:
        match = re.search(r"can be found in: (\S+validation-report\.json)", str(error))
        if not match:
            raise
        return None, _violations(json.loads(Path(match.group(1)).read_text()))
    report = Path(assembly.directory) / "validation-report.json"
    return assembly, (_violations(json.loads(report.read_text())) if report.exists() else [])


def checkov_binary() -> Path:
    """checkov of ``make install`` (its own virtualenv, ``.tools/checkov``), or ``LAMBDA_PATTERNS_CHECKOV``.
    Missing, it fails the test: a rule-pack test that skipped would pass without checking anything."""
    binary = Path(
        os.environ.get("LAMBDA_PATTERNS_CHECKOV") or ROOT / ".tools" / "checkov" / "bin" / "checkov"
    )
    if not binary.is_file():
        raise AssertionError(
            f"checkov not found at {binary}: run `make install` (it creates .tools/checkov from "
            "requirements-checkov.txt) or set LAMBDA_PATTERNS_CHECKOV to a checkov binary"
        )
    return binary


def checkov_failures(directory) -> list[dict]:
    """Run checkov's CloudFormation checks on the templates of a synthesized assembly folder. Returns
    every failed check as {check_id, resource, file}; skipped checks are not failures."""
    result = subprocess.run(
        [
            str(checkov_binary()),
            "--directory",
            str(directory),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--compact",
            "--quiet",
            "--soft-fail",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(
            f"checkov did not report JSON (exit {result.returncode}): {result.stdout[-2000:]}"
            f"{result.stderr[-2000:]}"
        ) from error
    reports = reports if isinstance(reports, list) else [reports]
    if not any(r.get("check_type") == "cloudformation" for r in reports):
        raise AssertionError(f"checkov scanned no CloudFormation template in {directory}: {reports}")
    return [
        {"check_id": f["check_id"], "resource": f["resource"], "file": f["file_path"]}
        for r in reports
        for f in r.get("results", {}).get("failed_checks", [])
    ]


def _violations(report: dict) -> list[dict]:
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for resource in violation.get("violatingResources", []) or violation.get(
                "violatingConstructs", []
            ):
                found.append(
                    {
                        "rule": violation.get("ruleName"),
                        "resource": resource.get("resourceLogicalId") or resource.get("constructPath"),
                        "message": violation.get("description"),
                    }
                )
    return found


def cfn_lint_errors(template: dict) -> list[str]:
    """cfn-lint's errors (not warnings or informational matches) for one template."""
    matches = _lint(template)
    return [
        f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})"
        for m in matches
        if m.rule.id.startswith("E")
    ]


def _lint(template: dict):
    from cfnlint.api import ManualArgs, lint

    return lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))


_HASH = re.compile(r"[0-9a-f]{64}")


def normalized(template: dict) -> dict:
    """The template with asset hashes replaced, so snapshots change only when the infrastructure does."""
    text = _HASH.sub("ASSET_HASH", json.dumps(template, sort_keys=True))
    return json.loads(text)
