"""AnalyticsStack: StreamAggregator, ClickstreamAnalytics and PurchaseEventProcessor."""

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from syrupy.extensions.json import JSONSnapshotExtension

from lambda_patterns import ConfigurationError, StreamOptions
from lambda_patterns.patterns.clickstream import ClickstreamAnalytics
from lambda_patterns.patterns.purchase_processor import PurchaseEventProcessor
from lambda_patterns.patterns.stream_aggregator import StreamAggregator
from stacks.analytics_stack import AnalyticsStack
from synth_helpers import cfn_lint_errors, new_app, normalized, stream_table, synth_with_nag


@pytest.fixture(scope="module")
def synthesized():
    app = new_app()
    AnalyticsStack(app, "AnalyticsStack")
    assembly, findings = synth_with_nag(app)
    return (assembly.get_stack_by_name("AnalyticsStack").template if assembly else None), findings


@pytest.fixture
def template(synthesized):
    return Template.from_json(synthesized[0])


def _function_env(template, variable):
    """The environment of the one function that has ``variable``."""
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if variable in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    return function["Properties"]["Environment"]["Variables"]


def test_analytics_stack_matches_its_snapshot(synthesized, snapshot):
    assert normalized(synthesized[0]) == snapshot.use_extension(JSONSnapshotExtension)


def test_analytics_stack_passes_cdk_nag(synthesized):
    assert synthesized[1] == []


def test_analytics_stack_passes_cfn_lint(synthesized):
    assert cfn_lint_errors(synthesized[0]) == []


def test_every_table_is_encrypted_on_demand_with_point_in_time_recovery(template):
    tables = template.find_resources("AWS::DynamoDB::GlobalTable")

    assert len(tables) == 5
    for table in tables.values():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
        assert all(
            replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            for replica in properties["Replicas"]
        )
        assert table["DeletionPolicy"] == "Retain"


def test_order_stream_feeds_the_aggregator_with_new_and_old_images_and_a_tumbling_window(template):
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable", {"StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {
                "Fn::GetAtt": [Match.string_like_regexp("OrderAggregatesSource"), "StreamArn"]
            },
            "TumblingWindowInSeconds": 1,
            "ParallelizationFactor": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )
    env = _function_env(template, "DIMENSIONS")
    assert (env["DIMENSIONS"], env["VALUE_ATTRIBUTE"], env["TIME_ATTRIBUTE"], env["BUCKET"]) == (
        "category,region",
        "amount",
        "created_at",
        "hour",
    )


def test_click_ingest_api_puts_validated_events_on_the_stream_without_a_function(template):
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "AuthorizationType": "AWS_IAM",
            "RequestValidatorId": Match.any_value(),
            "RequestModels": {"application/json": Match.any_value()},
            "Integration": Match.object_like(
                {"Type": "AWS", "Uri": {"Fn::Join": ["", Match.array_with([":kinesis:action/PutRecord"])]}}
            ),
        },
    )
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
        },
    )


def test_click_ingest_role_may_only_put_records_on_the_click_stream(template):
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if any(
            "kinesis:PutRecord" in json.dumps(s["Action"])
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]

    (statements,) = policies
    assert [(s["Action"], s["Resource"]["Fn::GetAtt"][1]) for s in statements] == [
        ("kinesis:PutRecord", "Arn")
    ]
    assert statements[0]["Resource"]["Fn::GetAtt"][0].startswith("ClickstreamClicks")


def test_malformed_clicks_go_to_a_quarantine_queue_the_function_may_send_to(template):
    env = _function_env(template, "MALFORMED_QUEUE_URL")

    assert env["MALFORMED_QUEUE_URL"]["Ref"].startswith("ClickstreamMalformedRecords")
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Resource": {
                                    "Fn::GetAtt": [Match.string_like_regexp("MalformedRecords"), "Arn"]
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_purchase_topic_is_encrypted_and_feeds_a_buffer_queue_with_a_dead_letter_queue(template):
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::Join": ["", Match.array_with([":alias/aws/sns"])]}}
    )
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "sqs"})
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3},
            "SqsManagedSseEnabled": True,
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [Match.string_like_regexp("PurchasesOnPurchaseQueue"), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_purchase_subscription_keeps_what_sns_cannot_deliver_in_its_own_alarmed_dead_letter_queue(template):
    # Without a redrive policy SNS drops a message it cannot deliver to the buffer (Serverless-SNSRedrivePolicy).
    (subscription,) = template.find_resources(
        "AWS::SNS::Subscription", {"Properties": {"Protocol": "sqs"}}
    ).values()
    target = subscription["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]

    assert target.startswith("PurchasesSubscriptionDeadLetterQueue")
    assert template.to_json()["Resources"][target]["Properties"]["SqsManagedSseEnabled"] is True
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": target}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": "sqs:SendMessage", "Principal": {"Service": "sns.amazonaws.com"}}
                        )
                    ]
                )
            },
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [target, "QueueName"]}}],
            "AlarmActions": Match.any_value(),
        },
    )


# Every StreamAggregator needs these; tests of another prop start from them so that only that prop differs.
_AGGREGATION = {"dimensions": ["c"], "value_attribute": "v", "time_attribute": "t"}


@pytest.mark.parametrize(
    ("props", "message", "code"),
    [
        (
            {"bucket": "week"},
            r"bucket must be one of \('minute', 'hour', 'day'\), got 'week'",
            "LambdaPatterns.Aggregator.Bucket",
        ),
        (
            {"dimensions": []},
            "dimensions must name at least one attribute",
            "LambdaPatterns.Aggregator.Dimensions",
        ),
        (
            {"stream_options": StreamOptions(parallelization_factor=2)},
            "parallelization_factor must stay 1",
            "LambdaPatterns.Analytics.ShardOrder",
        ),
        (
            {"stream_options": StreamOptions()},
            "stream_options needs a tumbling_window",
            "LambdaPatterns.Aggregator.TumblingWindow",
        ),
    ],
    ids=["unknown bucket", "no dimensions", "parallel shard processing", "no tumbling window"],
)
def test_aggregator_refuses_props_it_cannot_aggregate_with(props, message, code):
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError, match=message) as error:
        StreamAggregator(stack, "A", **{**_AGGREGATION, **props})

    assert error.value.code == code


def test_aggregator_refuses_an_existing_source_table_with_source_table_props():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        StreamAggregator(
            stack, "A", **_AGGREGATION, existing_source_table_obj=stream_table(stack), source_table_props={}
        )

    assert str(error.value) == (
        "StreamAggregator S/A: pass either existing_source_table_obj or source_table_props, not both "
        "(source_table_props configures a resource this construct creates; existing_source_table_obj replaces it)"
    )


def test_aggregator_uses_an_existing_source_table():
    stack = cdk.Stack(new_app(), "S")
    table = stream_table(stack, "Orders")

    aggregator = StreamAggregator(stack, "A", **_AGGREGATION, existing_source_table_obj=table)

    assert aggregator.source_table is table
    Template.from_stack(stack).resource_count_is("AWS::DynamoDB::GlobalTable", 2)


def test_clickstream_refuses_negative_retention():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(
        ConfigurationError, match="retention_days must be 0 \\(keep\\) or more, got -1"
    ) as error:
        ClickstreamAnalytics(stack, "C", retention_days=-1)

    assert error.value.code == "LambdaPatterns.Analytics.RetentionDays"


def test_purchase_processor_refuses_an_existing_topic_with_topic_props():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError, match="pass either existing_topic_obj or topic_props, not both"):
        PurchaseEventProcessor(stack, "P", existing_topic_obj=cdk.aws_sns.Topic(stack, "T"), topic_props={})


def test_purchase_processor_max_receive_count_reaches_the_redrive_policy():
    stack = cdk.Stack(new_app(), "S")
    PurchaseEventProcessor(stack, "P", max_receive_count=5)

    Template.from_stack(stack).has_resource_properties(
        "AWS::SQS::Queue", {"RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 5}}
    )


def test_click_model_limits_user_ids_to_characters_the_partition_key_template_keeps_valid(template):
    (model,) = template.find_resources("AWS::ApiGateway::Model").values()
    pattern = model["Properties"]["Schema"]["properties"]["user_id"]["pattern"]

    assert re.fullmatch(pattern, "user-42@example.com") and re.fullmatch(pattern, "3f2b9c1e-0d4a")
    assert not re.search(pattern, "o'brien")


def test_stream_and_queue_driven_functions_have_no_async_configuration(template):
    # Only event source mappings invoke them, synchronously; an async failure queue would stay empty.
    template.resource_count_is("AWS::Lambda::EventInvokeConfig", 0)


def test_purchase_function_props_cannot_replace_its_environment():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(
        ConfigurationError, match="function_props cannot set environment: this construct sets it itself"
    ):
        PurchaseEventProcessor(stack, "P", function_props={"environment": {}})
