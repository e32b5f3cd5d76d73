"""lambda_patterns.nag: one record acknowledges a finding in cdk-nag and checkov with one reason."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import ConfigurationError
from lambda_patterns.nag import (
    AUDIT_METADATA_KEY,
    STANDARD_PROFILE,
    RuleAcknowledgement,
    acknowledge_findings,
    merged_checkov_metadata,
)
from synth_helpers import new_app

REASON = "The dead-letter queue of the orders queue has no queue for its own failures"
QUEUE_RECORD = RuleAcknowledgement(REASON, nag=("AwsSolutions-SQS3",), checkov=("CKV_AWS_27",))


def _synth(stack: cdk.Stack) -> dict:
    return cdk.App.of(stack).synth().get_stack_by_name(stack.stack_name).template


def _skips(template: dict, logical_prefix: str) -> list[dict]:
    (resource,) = [r for k, r in template["Resources"].items() if k.startswith(logical_prefix)]
    return resource.get("Metadata", {}).get("checkov", {}).get("skip", [])


def test_merge_adds_skips_and_keeps_other_keys_and_skips_already_there():
    existing = {"skip": [{"id": "CKV_AWS_1", "comment": "the user's own skip, kept"}], "other": True}

    merged = merged_checkov_metadata(existing, [("CKV_AWS_27", REASON)])

    assert merged == {
        "skip": [
            {"id": "CKV_AWS_1", "comment": "the user's own skip, kept"},
            {"id": "CKV_AWS_27", "comment": REASON},
        ],
        "other": True,
    }
    assert existing["skip"] == [{"id": "CKV_AWS_1", "comment": "the user's own skip, kept"}]


def test_merge_keeps_the_first_comment_of_a_check_skipped_twice():
    merged = merged_checkov_metadata(
        {"skip": [{"id": "CKV_AWS_27", "comment": "first"}]},
        [("CKV_AWS_27", "second"), ("CKV_AWS_27", "third")],
    )

    assert merged == {"skip": [{"id": "CKV_AWS_27", "comment": "first"}]}


def test_merge_into_nothing():
    assert merged_checkov_metadata(None, [("CKV_AWS_27", REASON)]) == {
        "skip": [{"id": "CKV_AWS_27", "comment": REASON}]
    }


def test_covers_the_subtree_including_resources_added_after_the_call_and_only_matching_types():
    stack = cdk.Stack(new_app(), "S")
    parent = Construct(stack, "Parent")
    sqs.Queue(parent, "Before")
    acknowledge_findings(parent, QUEUE_RECORD)
    sqs.Queue(Construct(parent, "Nested"), "After")
    logs.LogGroup(parent, "Logs")
    sqs.Queue(stack, "Outside")

    template = _synth(stack)

    for inside in ("ParentBefore", "ParentNestedAfter"):
        assert _skips(template, inside) == [{"id": "CKV_AWS_27", "comment": REASON}], inside
    assert _skips(template, "ParentLogs") == []
    assert _skips(template, "Outside") == []


def test_merges_with_metadata_already_on_the_resource():
    stack = cdk.Stack(new_app(), "S")
    queue = sqs.Queue(stack, "Queue")
    resource = queue.node.default_child
    resource.add_metadata("checkov", {"skip": [{"id": "CKV_AWS_1", "comment": "the user's own skip, kept"}]})
    resource.add_metadata("cfn_nag", {"rules_to_suppress": [{"id": "W48", "reason": "kept as well"}]})
    acknowledge_findings(queue, QUEUE_RECORD)

    metadata = _synth(stack)["Resources"][stack.get_logical_id(resource)]["Metadata"]

    assert metadata["checkov"] == {
        "skip": [
            {"id": "CKV_AWS_1", "comment": "the user's own skip, kept"},
            {"id": "CKV_AWS_27", "comment": REASON},
        ]
    }
    assert metadata["cfn_nag"] == {"rules_to_suppress": [{"id": "W48", "reason": "kept as well"}]}


def test_writes_the_cdk_nag_acknowledgement_and_the_audit_record_with_the_same_reason():
    stack = cdk.Stack(new_app(), "S")
    queue = sqs.Queue(stack, "Queue")
    acknowledge_findings(queue, QUEUE_RECORD)
    acknowledge_findings(queue, QUEUE_RECORD)  # a shared construct acknowledged twice: recorded once

    entries = [(e.type, e.data) for e in queue.node.metadata]

    assert entries == [
        (cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {"Annotation::AwsSolutions-SQS3": REASON}),
        (AUDIT_METADATA_KEY, {"reason": REASON, "nag": ["AwsSolutions-SQS3"], "checkov": ["CKV_AWS_27"]}),
    ]


def test_a_construct_reached_through_two_proxies_is_acknowledged_once():
    # Given the L1 of a queue fetched twice from jsii (two Python objects for one construct, as a CDK
    # singleton is when each construct using it looks it up)
    stack = cdk.Stack(new_app(), "S")
    queue = sqs.Queue(stack, "Queue")
    first, second = queue.node.default_child, queue.node.default_child

    # When the same record is made through each
    acknowledge_findings(first, QUEUE_RECORD)
    acknowledge_findings(second, QUEUE_RECORD)

    # Then it is written once, and its checkov skip once
    audits = [e.data for e in first.node.metadata if e.type == AUDIT_METADATA_KEY]
    assert audits == [{"reason": REASON, "nag": ["AwsSolutions-SQS3"], "checkov": ["CKV_AWS_27"]}]
    assert _skips(_synth(stack), "Queue") == [{"id": "CKV_AWS_27", "comment": REASON}]


def test_records_on_one_construct_are_skipped_in_the_order_they_were_made():
    stack = cdk.Stack(new_app(), "S")
    parent = Construct(stack, "Parent")
    sqs.Queue(parent, "Queue")
    other = RuleAcknowledgement(
        "A second reason for the same queue check, made after the first",
        checkov=("CKV_AWS_27", "CKV_AWS_158"),
    )
    acknowledge_findings(parent, QUEUE_RECORD)
    logs.LogGroup(parent, "Logs")
    acknowledge_findings(parent, other)

    template = _synth(stack)

    assert _skips(template, "ParentQueue") == [{"id": "CKV_AWS_27", "comment": REASON}]
    assert _skips(template, "ParentLogs") == [{"id": "CKV_AWS_158", "comment": other.reason}]


def test_a_record_made_after_a_synth_is_written_by_the_next_synth():
    # Given a construct acknowledged once and synthesized (CDK has run its Aspects)
    stack = cdk.Stack(new_app(), "S")
    parent = Construct(stack, "Parent")
    sqs.Queue(parent, "Queue")
    logs.LogGroup(parent, "Logs")
    acknowledge_findings(parent, QUEUE_RECORD)
    app = cdk.App.of(stack)
    app.synth()

    # When a second record is made on it and the app synthesized again
    log_record = RuleAcknowledgement(
        "The log group of the parent keeps the service-owned key", checkov=("CKV_AWS_158",)
    )
    acknowledge_findings(parent, log_record)
    template = app.synth(force=True).get_stack_by_name("S").template

    # Then both skips are in the template
    assert _skips(template, "ParentQueue") == [{"id": "CKV_AWS_27", "comment": REASON}]
    assert _skips(template, "ParentLogs") == [{"id": "CKV_AWS_158", "comment": log_record.reason}]


def test_a_short_reason_is_refused_before_anything_is_written():
    stack = cdk.Stack(new_app(), "S")
    queue = sqs.Queue(stack, "Queue")

    with pytest.raises(ConfigurationError) as error:
        acknowledge_findings(queue, QUEUE_RECORD, RuleAcknowledgement("no queue", checkov=("CKV_AWS_27",)))

    assert error.value.code == "LambdaPatterns.Nag.ShortReason"
    assert "'no queue' is shorter than 25 characters" in str(error.value)
    assert queue.node.metadata == []


def test_every_standard_profile_entry_is_a_valid_checkov_acknowledgement():
    # Constructing with each entry runs the helper's own checks: a typo in a check id fails here.
    stack = cdk.Stack(new_app(), "S")
    acknowledge_findings(stack, *STANDARD_PROFILE.values())

    assert all(record.checkov for record in STANDARD_PROFILE.values())
