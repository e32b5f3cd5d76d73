"""The resource builders the patterns share: secure streams (and how long their idempotency marks must
live) and secure topics."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from lambda_patterns.resources.streams import mark_ttl_seconds, secure_stream, stream_retention_period
from lambda_patterns.resources.topics import secure_topic
from synth_helpers import new_app


def test_a_secure_stream_is_on_demand_and_encrypted_with_the_aws_managed_key():
    stack = cdk.Stack(new_app(), "S")
    secure_stream(stack, "Clicks")

    Template.from_stack(stack).has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    )


def test_secure_stream_overrides_are_merged_over_its_defaults():
    stack = cdk.Stack(new_app(), "S")
    secure_stream(stack, "Clicks", overrides={"retention_period": cdk.Duration.days(7)})

    Template.from_stack(stack).has_resource_properties(
        "AWS::Kinesis::Stream",
        {"RetentionPeriodHours": 168, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
    )


@pytest.mark.parametrize(
    "overrides,hours",
    [(None, 24), ({}, 24), ({"shard_count": 2}, 24), ({"retention_period": cdk.Duration.days(7)}, 168)],
)
def test_stream_retention_period_is_what_the_new_stream_keeps(overrides, hours):
    assert stream_retention_period(overrides).to_hours() == hours


def test_marks_outlive_their_streams_retention_by_a_day():
    assert mark_ttl_seconds(cdk.Duration.hours(24)) == 2 * 86_400


def test_a_secure_topic_uses_the_aws_managed_sns_key_and_refuses_plain_http():
    stack = cdk.Stack(new_app(), "S")
    secure_topic(stack, "Purchases")
    secure_topic(stack, "Refunds", overrides={"display_name": "Refunds"})  # one key reference per scope

    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 2)
    sns_key = {"Fn::Join": ["", Match.array_with([":alias/aws/sns"])]}
    template.all_resources_properties("AWS::SNS::Topic", {"KmsMasterKeyId": sns_key})
    template.has_resource_properties("AWS::SNS::Topic", {"DisplayName": "Refunds"})
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    policies = template.find_resources("AWS::SNS::TopicPolicy").values()
    denials = [
        statement
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny" and statement.get("Condition") == insecure
    ]
    assert len(denials) == 2
