"""Synthesis helpers for construct and stack tests: cdk-nag findings, cfn-lint errors, normalized templates."""

from __future__ import annotations

import json
import re
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
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        assembly = app.synth()
    except RuntimeError as error:
        match = re.search(r"can be found in: (\S+validation-report\.json)", str(error))
        if not match:
            raise
        return None, _violations(json.loads(Path(match.group(1)).read_text()))
    report = Path(assembly.directory) / "validation-report.json"
    return assembly, (_violations(json.loads(report.read_text())) if report.exists() else [])


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
