"""The local runner's registry of resource families (``lambda_patterns.local.registry``).

Each ``wire_*`` module registers the CloudFormation types it handles; ``LocalApp`` runs the registered
wirings for every stack and reports any other type as skipped. The end-to-end tests here start a
``LocalApp`` on a cloud assembly written by hand (a manifest and one template, no CDK synthesis).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from lambda_patterns.local import LocalApp, registry
from lambda_patterns.local.runner import HANDLED_TYPES

#: runner.HANDLED_TYPES as the literal it was before the runner became a registry.
PREVIOUS_HANDLED_TYPES = {
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Kinesis::Stream",
    "AWS::Lambda::Function",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Events::Rule",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::GatewayResponse",
    "Custom::S3BucketNotifications",
}
CODEDEPLOY_TYPES = {
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CodeDeploy::DeploymentConfig",
}
HTTP_API_TYPES = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
}
#: Families added since, each with its own module and test.
ADDED_SINCE = CODEDEPLOY_TYPES | HTTP_API_TYPES


def _of(*prefixes: str) -> set[str]:
    return {kind for kind in PREVIOUS_HANDLED_TYPES if kind.startswith(prefixes)}


#: Which family module handles which of those types.
FAMILIES = {
    "wire_resources": _of("AWS::S3::", "AWS::DynamoDB::", "AWS::SQS::", "AWS::SNS::Topic", "AWS::Kinesis::"),
    "wire_functions": _of("AWS::Lambda::Function", "AWS::Lambda::Alias"),
    "wire_mappings": _of("AWS::Lambda::EventSourceMapping"),
    "wire_s3": _of("Custom::S3BucketNotifications"),
    "wire_codedeploy": CODEDEPLOY_TYPES,
    "wire_sns": _of("AWS::SNS::Subscription"),
    "wire_events": _of("AWS::Events::"),
    "wire_apigateway": _of("AWS::ApiGateway::"),
    "wire_apigatewayv2": HTTP_API_TYPES,
}

STACK = "RegistryTest"


def write_assembly(folder: Path, resources: dict) -> Path:
    """A cloud assembly of one stack: what ``assembly.read_assembly`` reads (manifest and template)."""
    folder.mkdir(parents=True, exist_ok=True)
    template = f"{STACK}.template.json"
    (folder / template).write_text(json.dumps({"Resources": resources}))
    manifest = {
        "version": "36.0.0",
        "artifacts": {
            STACK: {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/unknown-region",
                "properties": {"templateFile": template},
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def template_resource(kind: str, name: str, properties: dict | None = None) -> dict:
    """A template resource of ``kind`` at construct path ``<stack>/<name>/Resource``."""
    return {
        "Type": kind,
        "Properties": properties or {},
        "Metadata": {"aws:cdk:path": f"{STACK}/{name}/Resource"},
    }


RESOURCES = {
    "Inbox": template_resource("AWS::SQS::Queue", "Inbox"),
    "Widget": template_resource("AWS::LocalTest::Widget", "Widget", {"Queue": {"Ref": "Inbox"}}),
    "Thing": template_resource("Custom::LocalTest", "Thing", {"ServiceToken": "arn:aws:lambda:::function:x"}),
    "Role": template_resource("AWS::IAM::Role", "Role"),
}


def test_the_registrys_keys_are_the_types_the_runner_handled():
    assert set(registry.handled_types()) == PREVIOUS_HANDLED_TYPES | ADDED_SINCE
    assert set(HANDLED_TYPES) == PREVIOUS_HANDLED_TYPES | ADDED_SINCE


def test_each_family_registers_its_types_exactly_once():
    wirings = registry.wirings()
    claims = Counter(kind for wiring in wirings for kind in wiring.types)
    assert [kind for kind, count in claims.items() if count > 1] == []
    by_family: dict[str, set[str]] = {}
    for wiring in wirings:
        by_family.setdefault(wiring.family, set()).update(wiring.types)
    assert by_family == FAMILIES
    assert set().union(*FAMILIES.values()) == PREVIOUS_HANDLED_TYPES | ADDED_SINCE
    registry.load_families()  # loading again registers nothing twice
    assert registry.wirings() == wirings


def test_the_wirings_run_in_the_order_the_runner_always_wired_a_stack():
    order = [wiring.wire.__name__ for wiring in registry.wirings()]
    assert order == [
        "wire_aliases",
        "wire_resources",
        "wire_functions",
        "add_mapping",  # wire_mappings, registered with register_each
        "wire_s3",
        "wire_sns",
        "add_rule",  # wire_events, likewise
        "wire_apigateway",
        "wire_apigatewayv2",  # same order as REST APIs, after them by name
        "note_deployments",  # wire_codedeploy: after everything, it only reports
    ]


def test_a_type_another_family_handles_is_refused():
    with pytest.raises(ValueError, match=r"AWS::SQS::Queue \(by lambda_patterns\.local\.wire_resources"):

        @registry.register("AWS::SQS::Queue", "Custom::LocalTest", order=1)
        def wire_queues_again(app, stack, scope):
            raise AssertionError("never registered, never called")

    assert set(registry.handled_types()) == PREVIOUS_HANDLED_TYPES | ADDED_SINCE


def test_an_unknown_type_is_reported_skipped(tmp_path):
    with LocalApp(write_assembly(tmp_path / "cdk.out", RESOURCES), schedule_scale=0) as app:
        skipped = list(app.skipped)
    assert skipped == [
        f"AWS::LocalTest::Widget {STACK}/Widget/Resource: this resource type is not emulated locally"
    ]


@pytest.fixture
def local_test_family():
    """A family of the test's own: a wiring for ``Custom::LocalTest`` and ``AWS::LocalTest::Widget`` that
    records its calls (after the resources family has created the queue); unregistered afterwards."""
    calls = []

    @registry.register("Custom::LocalTest", "AWS::LocalTest::Widget", order=90)
    def wire_local_test(app, stack, scope):
        queues = app.client("sqs").list_queues().get("QueueUrls", [])
        widgets = [resource.logical_id for resource in stack.resources("AWS::LocalTest::Widget")]
        calls.append((stack.name, widgets, scope.attributes["Inbox"]["QueueUrl"] in queues))

    try:
        yield calls
    finally:
        registry.unregister(wire_local_test)


def test_a_registered_family_is_called_for_its_types_and_unregistered_afterwards(tmp_path, local_test_family):
    assert {"Custom::LocalTest", "AWS::LocalTest::Widget"} <= set(HANDLED_TYPES)
    assert registry.wirings()[-1].wire.__name__ == "wire_local_test"  # order 90: after the others
    with LocalApp(write_assembly(tmp_path / "cdk.out", RESOURCES), schedule_scale=0) as app:
        assert app.skipped == []
    assert local_test_family == [(STACK, ["Widget"], True)]


def test_unregistering_restores_the_registry():
    @registry.register("Custom::LocalTest", order=90)
    def wire_local_test(app, stack, scope):
        raise AssertionError("not called")

    assert "Custom::LocalTest" in HANDLED_TYPES  # the runner's view is live
    registry.unregister(wire_local_test)
    assert set(HANDLED_TYPES) == PREVIOUS_HANDLED_TYPES | ADDED_SINCE
    assert all(wiring.wire is not wire_local_test for wiring in registry.wirings())


def test_register_each_calls_its_function_for_every_resource_of_the_type(tmp_path):
    calls = []

    @registry.register_each("AWS::LocalTest::Widget", order=90)
    def add_widget(app, resource, scope):
        calls.append((resource.logical_id, resource.path, scope.attributes["Inbox"]["QueueUrl"]))

    resources = {**RESOURCES, "Other": template_resource("AWS::LocalTest::Widget", "Other")}
    try:
        assert registry.wirings()[-1].name == f"{__name__}.{add_widget.__qualname__}"
        with LocalApp(write_assembly(tmp_path / "cdk.out", resources), schedule_scale=0) as app:
            inbox = app.find("Inbox", "AWS::SQS::Queue")["QueueUrl"]
            assert app.skipped == []
    finally:
        registry.unregister(add_widget)
    assert calls == [
        ("Widget", f"{STACK}/Widget/Resource", inbox),
        ("Other", f"{STACK}/Other/Resource", inbox),
    ]
    assert set(registry.handled_types()) == PREVIOUS_HANDLED_TYPES | ADDED_SINCE
