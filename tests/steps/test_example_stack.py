"""ExampleServiceStack: the snapshot, the properties that matter, cdk-nag and cfn-lint."""

import pytest
from aws_cdk.assertions import Match, Template
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.example_stack import ExampleServiceStack
from synth_helpers import cfn_lint_errors, new_app, normalized, synth_with_nag


@pytest.fixture(scope="module")
def synthesized():
    app = new_app()
    ExampleServiceStack(app, "ExampleServiceStack")
    assembly, findings = synth_with_nag(app)
    return assembly.get_stack_by_name("ExampleServiceStack").template if assembly else None, findings


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_example_stack_matches_its_snapshot(synthesized, snapshot_json):
    assert normalized(synthesized[0]) == snapshot_json


def test_example_stack_passes_cdk_nag(synthesized):
    assert synthesized[1] == []


def test_example_stack_passes_cfn_lint(synthesized):
    assert cfn_lint_errors(synthesized[0]) == []


def test_example_function_consumes_its_queue_with_partial_batch_responses(synthesized):
    template = Template.from_json(synthesized[0])

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handler.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
        },
    )
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})
