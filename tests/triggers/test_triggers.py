"""Step 5: every trigger on one function, checked against cdk-nag, cfn-lint and the properties that matter."""

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from lambda_patterns import (
    ApiGatewayTrigger,
    ConfigurationError,
    DynamoDBStreamTrigger,
    EventBridgeTrigger,
    KinesisTrigger,
    LambdaService,
    S3Trigger,
    ServerlessFunction,
    SnsTrigger,
    SqsTrigger,
    StreamOptions,
)
from lambda_patterns.permissions import delete_objects, put_objects, read_objects, write_objects, write_table
from synth_helpers import FIXTURES, cfn_lint_errors, echo_code, new_app, stream_table, synth_with_nag


def _bucket(stack, id="Bucket"):
    logs = s3.Bucket(stack, f"{id}Logs", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    cdk.Validations.of(logs).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="This is the access-log bucket of the test bucket")
    )
    return s3.Bucket(
        stack,
        id,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=logs,
    )


@pytest.fixture(scope="module")
def every_trigger():
    """One function wired to every trigger, synthesized once with cdk-nag."""
    app = new_app()
    stack = cdk.Stack(app, "EveryTrigger")
    bucket = _bucket(stack)
    function = ServerlessFunction(
        stack,
        "Fn",
        code=echo_code(),
        permissions=[read_objects(bucket, "in/"), write_objects(bucket, "out/")],
    )
    S3Trigger(stack, "OnUpload", function=function, bucket=bucket, prefix="in/", suffix=".jpg")
    DynamoDBStreamTrigger(stack, "OnChange", function=function, table=stream_table(stack))
    KinesisTrigger(
        stack,
        "OnClick",
        function=function,
        stream=kinesis.Stream(stack, "Clicks", encryption=kinesis.StreamEncryption.MANAGED),
    )
    SqsTrigger(stack, "OnMessage", function=function)
    SnsTrigger(stack, "OnNotification", function=function)
    EventBridgeTrigger(
        stack, "Every5Minutes", function=function, schedule=events.Schedule.rate(Duration.minutes(5))
    )
    EventBridgeTrigger(
        stack, "OnOrder", function=function, event_pattern=events.EventPattern(source=["shop.orders"])
    )
    ApiGatewayTrigger(stack, "Http", function=function)
    assembly, findings = synth_with_nag(app)
    template = assembly.get_stack_by_name("EveryTrigger").template if assembly else None
    return template, findings


def test_every_trigger_passes_cdk_nag_aws_solutions(every_trigger):
    _, findings = every_trigger

    assert findings == []


def test_every_trigger_passes_cfn_lint(every_trigger):
    template, _ = every_trigger

    assert cfn_lint_errors(template) == []


@pytest.mark.parametrize("source", ["DynamoDB", "Kinesis"])
def test_stream_triggers_report_item_failures_bisect_bound_retries_and_keep_failures(every_trigger, source):
    template = Template.from_json(every_trigger[0])

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": Match.object_like(
                {"Fn::GetAtt": Match.array_with(["StreamArn" if source == "DynamoDB" else "Arn"])}
            )
            if source == "DynamoDB"
            else {"Fn::GetAtt": [Match.string_like_regexp("Clicks"), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 3600,
            "StartingPosition": "TRIM_HORIZON",
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )


def test_sqs_trigger_reports_item_failures_and_redrives_to_a_dead_letter_queue(every_trigger):
    template = Template.from_json(every_trigger[0])

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [Match.string_like_regexp("OnMessageQueue"), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": 10,
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3},
            "SqsManagedSseEnabled": True,
            "VisibilityTimeout": 180,
        },
    )


def test_sns_subscription_keeps_undeliverable_messages(every_trigger):
    Template.from_json(every_trigger[0]).has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "lambda", "RedrivePolicy": {"deadLetterTargetArn": Match.any_value()}},
    )


def test_eventbridge_targets_retry_then_keep_the_event(every_trigger):
    Template.from_json(every_trigger[0]).has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(5 minutes)",
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
                    }
                )
            ],
        },
    )


def test_api_methods_require_iam_authorization_and_validate_requests(every_trigger):
    template = Template.from_json(every_trigger[0])

    methods = template.find_resources("AWS::ApiGateway::Method")
    assert len(methods) == 2
    for method in methods.values():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
        assert "RequestValidatorId" in method["Properties"]
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "TracingEnabled": True,
            "MethodSettings": [Match.object_like({"LoggingLevel": "INFO", "ThrottlingRateLimit": 100})],
        },
    )


def test_s3_notification_filters_prefix_and_suffix(every_trigger):
    Template.from_json(every_trigger[0]).has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    Match.object_like(
                        {
                            "Events": ["s3:ObjectCreated:*"],
                            "Filter": {
                                "Key": {"FilterRules": Match.array_with([{"Name": "prefix", "Value": "in/"}])}
                            },
                        }
                    )
                ]
            }
        },
    )


def test_s3_trigger_refuses_a_function_that_writes_where_it_is_triggered():
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)
    function = ServerlessFunction(
        stack, "Fn", code=echo_code(), permissions=[write_objects(bucket, "uploads/thumbs/")]
    )

    with pytest.raises(ConfigurationError) as error:
        S3Trigger(stack, "OnUpload", function=function, bucket=bucket, prefix="uploads/")

    assert error.value.code == "LambdaPatterns.Trigger.Recursion"
    assert str(error.value) == (
        "S3Trigger S/OnUpload: the function writes to S/Bucket under prefix 'uploads/thumbs/', which triggers it "
        "with prefix 'uploads/': every write would invoke it again. Use another bucket/table/queue for the "
        "output, or disjoint key prefixes for input and output."
    )


def test_s3_trigger_accepts_disjoint_input_and_output_prefixes():
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)
    function = ServerlessFunction(
        stack, "Fn", code=echo_code(), permissions=[write_objects(bucket, "thumbnails/")]
    )

    S3Trigger(stack, "OnUpload", function=function, bucket=bucket, prefix="uploads/")


def _service_on(bucket_intent, events):
    """A ``LambdaService`` granted ``bucket_intent(bucket, "in/")``, then an S3 trigger on ``in/`` for
    ``events``: the trigger either refuses it or wires the notification."""
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)
    permissions = [read_objects(bucket, "in/"), bucket_intent(bucket, "in/")]
    service = LambdaService(stack, "Svc", entry=FIXTURES / "echo", permissions=permissions)
    service.add_trigger(S3Trigger, "OnEvent", bucket=bucket, prefix="in/", events=events)
    return Template.from_stack(stack)


@pytest.mark.parametrize(
    ("intent", "events", "does"),
    [
        (put_objects, [s3.EventType.OBJECT_CREATED], "writes to"),
        (delete_objects, [s3.EventType.OBJECT_REMOVED], "deletes from"),
    ],
)
def test_s3_trigger_refuses_a_service_that_causes_the_events_it_is_triggered_by(intent, events, does):
    with pytest.raises(ConfigurationError) as error:
        _service_on(intent, events)

    assert error.value.code == "LambdaPatterns.Trigger.Recursion"
    assert str(error.value).startswith(
        f"S3Trigger S/Svc/OnEvent: the function {does} S/Bucket under prefix 'in/', which triggers it with "
        "prefix 'in/'"
    )


@pytest.mark.parametrize(
    ("intent", "events", "event_name"),
    [
        (put_objects, [s3.EventType.OBJECT_REMOVED], "s3:ObjectRemoved:*"),
        (delete_objects, [s3.EventType.OBJECT_CREATED], "s3:ObjectCreated:*"),
    ],
)
def test_s3_trigger_accepts_a_service_whose_changes_it_does_not_fire_on(intent, events, event_name):
    template = _service_on(intent, events)

    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    Match.object_like(
                        {
                            "Events": [event_name],
                            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                        }
                    )
                ]
            }
        },
    )


def test_stream_trigger_refuses_a_function_that_writes_its_own_table():
    stack = cdk.Stack(new_app(), "S")
    table = stream_table(stack)
    function = ServerlessFunction(stack, "Fn", code=echo_code(), permissions=[write_table(table)])

    with pytest.raises(ConfigurationError, match="the function writes to S/Table, which triggers it"):
        DynamoDBStreamTrigger(stack, "OnChange", function=function, table=table)


def test_stream_trigger_refuses_unbounded_retries():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code())

    with pytest.raises(
        ConfigurationError, match="retry_attempts=-1 retries a poison record until it expires"
    ):
        DynamoDBStreamTrigger(
            stack,
            "OnChange",
            function=function,
            table=stream_table(stack),
            options=StreamOptions(retry_attempts=-1),
        )


def test_stream_trigger_needs_a_table_with_a_stream():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code())
    table = dynamodb.Table(
        stack, "Plain", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )

    with pytest.raises(ConfigurationError, match="table S/Plain has no stream"):
        DynamoDBStreamTrigger(stack, "OnChange", function=function, table=table)


def test_sqs_trigger_refuses_an_existing_queue_together_with_queue_props():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code())

    with pytest.raises(ConfigurationError) as error:
        SqsTrigger(
            stack, "Q", function=function, existing_queue_obj=sqs.Queue(stack, "Existing"), queue_props={}
        )

    assert str(error.value) == (
        "SqsTrigger S/Q: pass either existing_queue_obj or queue_props, not both (queue_props configures a "
        "resource this construct creates; existing_queue_obj replaces it)"
    )


def test_sqs_trigger_refuses_a_visibility_timeout_shorter_than_the_function_timeout():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code(), timeout=Duration.seconds(60))

    with pytest.raises(
        ConfigurationError,
        match=r"visibility timeout \(30 s\) is shorter than the function's timeout \(60 s\)",
    ):
        SqsTrigger(stack, "Q", function=function, queue_props={"visibility_timeout": Duration.seconds(30)})


def test_eventbridge_trigger_needs_exactly_one_of_pattern_or_schedule():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code())

    with pytest.raises(ConfigurationError, match="give exactly one of event_pattern or schedule"):
        EventBridgeTrigger(stack, "E", function=function)


def test_sqs_trigger_refuses_an_existing_queue_whose_visibility_timeout_is_shorter_than_the_function_timeout():
    # Lambda rejects the event source mapping at deploy time; an app-defined queue lets us say so at synth.
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code(), timeout=Duration.seconds(60))
    queue = sqs.Queue(stack, "Existing", enforce_ssl=True)

    with pytest.raises(
        ConfigurationError,
        match=r"SqsTrigger S/Q: the queue's visibility timeout \(30 s\) is shorter than the function's timeout "
        r"\(60 s\)",
    ):
        SqsTrigger(stack, "Q", function=function, existing_queue_obj=queue)


def test_sqs_trigger_accepts_an_imported_queue_it_cannot_inspect():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code(), timeout=Duration.seconds(60))
    queue = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:orders")

    trigger = SqsTrigger(stack, "Q", function=function, existing_queue_obj=queue)

    assert trigger.queue is queue


def test_sqs_trigger_refuses_a_large_batch_without_a_batching_window():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=echo_code())

    with pytest.raises(
        ConfigurationError, match=r"batch_size 100 needs a max_batching_window of at least 1 second"
    ):
        SqsTrigger(stack, "Q", function=function, batch_size=100, max_batching_window=Duration.seconds(0))
