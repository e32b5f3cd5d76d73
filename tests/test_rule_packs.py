"""Rule packs a platform team runs (issue 14): cdk-nag's AwsSolutions and Serverless packs and checkov find
nothing unacknowledged, on app.py's stacks and on a user's app built from every pattern with its defaults.

Every acknowledgement must come from ``lambda_patterns.nag.acknowledge_findings``, which records each one
in the construct's metadata (``AUDIT_METADATA_KEY``): a cdk-nag acknowledgement or a checkov skip that no
such record explains was written some other way, and the two packs could then disagree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events

from lambda_patterns import (
    ClickstreamAnalytics,
    EventBridgeTrigger,
    LambdaService,
    PurchaseEventProcessor,
    RecommendationsApi,
    SnsTrigger,
    StreamAggregator,
    ThumbnailPipeline,
    WebApiBackend,
)
from lambda_patterns.checks.acknowledgement_reason import MIN_REASON_LENGTH
from lambda_patterns.nag import AUDIT_METADATA_KEY
from lambda_patterns.steps.handlers import common_path, handler_path
from stacks.analytics_stack import AnalyticsStack
from stacks.example_stack import ExampleServiceStack
from stacks.file_processing_stack import FileProcessingStack
from stacks.web_backend_stack import WebBackendStack
from synth_helpers import checkov_failures, new_app, synth_with_packs, synth_with_rule_packs

NAG_ACKNOWLEDGED = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
ANNOTATION_PREFIX = "Annotation::"


def _app_py(app: cdk.App) -> None:
    # The stacks of app.py, under the names app.py gives them.
    ExampleServiceStack(app, "ExampleServiceStack")
    FileProcessingStack(app, "FileProcessingStack")
    AnalyticsStack(app, "AnalyticsStack")
    WebBackendStack(app, "WebBackendStack")


def _user_app(app: cdk.App) -> None:
    # What a user writes: each pattern with only its required props, and the triggers no pattern uses.
    patterns = cdk.Stack(app, "UserPatterns")
    ThumbnailPipeline(patterns, "Thumbnails")
    WebApiBackend(patterns, "Items")
    StreamAggregator(patterns, "Orders", dimensions=["region"], value_attribute="amount", time_attribute="at")
    ClickstreamAnalytics(patterns, "Clicks")
    purchases = PurchaseEventProcessor(patterns, "Purchases")
    RecommendationsApi(patterns, "Recommendations", aggregates_table=purchases.aggregates_table)
    triggers = cdk.Stack(app, "UserTriggers")
    service = LambdaService(triggers, "Hello", entry=handler_path("hello"), shared=[common_path()])
    service.add_trigger(SnsTrigger, "OnNotice")
    service.add_trigger(EventBridgeTrigger, "Hourly", schedule=events.Schedule.rate(Duration.hours(1)))


@pytest.fixture(scope="module", params=[_app_py, _user_app], ids=["app.py", "user-app"])
def synthesized(request):
    app = new_app()
    request.param(app)
    assembly, findings = synth_with_rule_packs(app)
    assert assembly is not None, findings
    return assembly, findings


def _stack_metadata(assembly) -> dict[str, dict[str, list]]:
    """Each stack's construct metadata (path -> entries), read from the assembly as the CLI reads it: in
    the manifest, or in the file it names."""
    directory = Path(assembly.directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    found = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        metadata = dict(artifact.get("metadata", {}))
        if "additionalMetadataFile" in artifact:
            metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
        found[artifact["displayName"]] = metadata
    return found


def _by_path(assembly, metadata_type: str) -> dict[str, list]:
    """Every metadata entry of ``metadata_type`` in the assembly's stacks, by construct path."""
    found: dict[str, list] = defaultdict(list)
    for metadata in _stack_metadata(assembly).values():
        for path, entries in metadata.items():
            found[path] += [e["data"] for e in entries if e["type"] == metadata_type]
    return found


def _records_covering(audits: dict[str, list], path: str) -> list[tuple[str, dict]]:
    """(where, record) for the helper's records on ``path`` and its ancestors: an acknowledgement covers
    its subtree."""
    parts = path.split("/")
    ancestors = ["/".join(parts[:n]) for n in range(len(parts), 1, -1)]
    return [(at, r) for at in ancestors for r in audits.get(at, [])]


def _checkov_skips(assembly) -> list[tuple[str, str, dict]]:
    """(stack, construct path, skip) for every checkov skip in the synthesized templates."""
    skips = []
    logical_ids = _by_path(assembly, "aws:cdk:logicalId")
    for stack in assembly.stacks:
        paths = {
            ids[0]: path
            for path, ids in logical_ids.items()
            if ids and path.startswith(f"/{stack.stack_name}/")
        }
        for logical_id, resource in stack.template["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                skips.append((stack.stack_name, paths[logical_id], skip))
    return skips


def test_cdk_nag_aws_solutions_and_serverless_find_nothing_unacknowledged(synthesized):
    assert synthesized[1] == []


def test_checkov_finds_nothing_unacknowledged(synthesized):
    assert checkov_failures(synthesized[0].directory) == []


def test_checkov_skips_only_checks_it_would_fail(synthesized, tmp_path):
    # Without the skips, checkov fails each skipped check: no skip is written where nothing is wrong.
    assembly = synthesized[0]
    for stack in assembly.stacks:
        template = json.loads(json.dumps(stack.template))
        for resource in template["Resources"].values():
            resource.get("Metadata", {}).pop("checkov", None)
        (tmp_path / stack.template_file).write_text(json.dumps(template))
    failed = {
        (f["file"].lstrip("/"), f["resource"].split(".", 1)[1], f["check_id"])
        for f in checkov_failures(tmp_path)
    }
    skipped = set()
    for stack in assembly.stacks:
        for logical_id, resource in stack.template["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                skipped.add((stack.template_file, logical_id, skip["id"]))
    assert skipped
    assert skipped - failed == set()


def test_every_cdk_nag_acknowledgement_has_a_reason_and_comes_from_the_helper(synthesized):
    assembly = synthesized[0]
    audits = _by_path(assembly, AUDIT_METADATA_KEY)
    acknowledged = _by_path(assembly, NAG_ACKNOWLEDGED)
    assert acknowledged
    for path, entries in acknowledged.items():
        for entry in entries:
            for rule, reason in entry.items():
                rule = rule.removeprefix(ANNOTATION_PREFIX)
                assert len(reason) >= MIN_REASON_LENGTH, (path, rule, reason)
                assert {"rule": rule, "reason": reason} in [
                    {"rule": n, "reason": r["reason"]} for r in audits.get(path, []) for n in r["nag"]
                ], (path, rule)


def test_every_checkov_skip_has_a_reason_and_comes_from_the_helper(synthesized):
    # The helper's record explains the skip; when it also names cdk-nag rules, cdk-nag has them with the
    # very same reason, on the same construct.
    assembly = synthesized[0]
    audits = _by_path(assembly, AUDIT_METADATA_KEY)
    acknowledged = _by_path(assembly, NAG_ACKNOWLEDGED)
    skips = _checkov_skips(assembly)
    assert skips
    for stack, path, skip in skips:
        assert len(skip["comment"]) >= MIN_REASON_LENGTH, (stack, path, skip)
        records = [
            (at, r)
            for at, r in _records_covering(audits, path)
            if skip["id"] in r["checkov"] and skip["comment"] == r["reason"]
        ]
        assert records, (stack, path, skip)
        for at, record in records:
            nag = {
                rule.removeprefix(ANNOTATION_PREFIX): reason
                for entry in acknowledged.get(at, [])
                for rule, reason in entry.items()
            }
            assert {rule: nag.get(rule) for rule in record["nag"]} == dict.fromkeys(
                record["nag"], record["reason"]
            )


def test_nothing_is_acknowledged_once_the_resource_has_what_the_check_asks_for():
    # README: a queue with a KMS key, a function with vpc, reserved concurrency and an environment key, and
    # a stage with caching get no skip, so the reason never claims what is not so.
    from aws_cdk import aws_apigateway as apigw
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

    from lambda_patterns import ServerlessFunction
    from lambda_patterns.resources.queue import failure_queue
    from lambda_patterns.resources.rest_api import SecureRestApi

    stack = cdk.Stack(new_app(), "Hardened")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    queue = failure_queue(
        stack, "Queue", "a test", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key
    )
    ServerlessFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        vpc=ec2.Vpc(stack, "Vpc", max_azs=2),
        reserved_concurrency=5,
        function_props={"environment_encryption": key},
        existing_failure_queue=queue,
    )
    api = SecureRestApi(
        stack,
        "Api",
        rest_api_props={
            "deploy_options": apigw.StageOptions(caching_enabled=True, cache_cluster_enabled=True)
        },
    )
    api.api.root.add_method("GET", apigw.MockIntegration())

    template = cdk.App.of(stack).synth().get_stack_by_name("Hardened").template
    skipped = {
        (resource["Type"], skip["id"])
        for resource in template["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }

    assert (
        skipped
        & {
            ("AWS::Lambda::Function", "CKV_AWS_115"),
            ("AWS::Lambda::Function", "CKV_AWS_117"),
            ("AWS::Lambda::Function", "CKV_AWS_173"),
            ("AWS::SQS::Queue", "CKV_AWS_27"),
            ("AWS::ApiGateway::Stage", "CKV_AWS_120"),
        }
        == set()
    )
    # Still acknowledged: what these props do not change (the log groups' keys, the destination queue's).
    assert ("AWS::Logs::LogGroup", "CKV_AWS_158") in skipped


def test_the_compliance_packs_find_nothing_unacknowledged_in_the_standard_profile_either():
    # given app.py in the standard profile, when HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1 run,
    # then every finding is acknowledged where its resource is made: each is what the hardened profile adds,
    # or true of the resource in both profiles (an inline policy, a log bucket's SSE-S3)
    app = new_app()
    _app_py(app)
    assembly, findings = synth_with_packs(app, ("HIPAASecurity", "NIST80053R5", "PCIDSS321"))
    assert assembly is not None and findings == []
