"""FunctionAlarms, the alarm topic and ServiceDashboard: each alarm's metric, threshold, comparison and action;
the dashboard's widgets and metrics; stream triggers adding their alarms; nag and cfn-lint."""

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.operations.alarms import alarm_topic, duration_threshold_ms
from lambda_patterns.operations.dashboard import CustomMetrics, ServiceDashboard
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers import DynamoDBStreamTrigger, KinesisTrigger, SqsTrigger
from synth_helpers import cfn_lint_errors, echo_code, new_app, stream_table, synth_with_nag


def _stack():
    return cdk.Stack(new_app(), "S")


def _alarm(template: Template, metric_name: str) -> dict:
    (alarm,) = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": metric_name}}
    ).values()
    return alarm["Properties"]


def _dashboard(template: Template) -> dict:
    """The dashboard body as JSON, each CloudFormation reference replaced by its logical id."""
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, str):
        return json.loads(body)
    parts = body["Fn::Join"][1]
    return json.loads(
        "".join(
            p if isinstance(p, str) else (p.get("Ref") or "/".join(p.get("Fn::GetAtt", ["?"]))) for p in parts
        )
    )


def _metric_names(widget: dict) -> list[str]:
    return [m[1] for m in widget["properties"]["metrics"]]


@pytest.fixture(scope="module")
def alarmed():
    """One function with alarms notifying a topic, a 10 s timeout and its on-failure queue."""
    stack = _stack()
    topic = sns.Topic(stack, "Pager")
    fn = ServerlessFunction(
        stack, "Fn", code=echo_code(), timeout=Duration.seconds(10), alarms=True, alarm_topic=topic
    )
    return fn, Template.from_stack(stack), stack.resolve(topic.topic_arn)


def test_alarms_are_off_by_default():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code())

    assert fn.alarms is None
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)


def test_errors_alarm_fires_on_one_error_in_five_minutes_and_pages_the_topic(alarmed):
    _, template, topic = alarmed

    properties = _alarm(template, "Errors")
    assert (properties["Namespace"], properties["Statistic"], properties["Period"]) == (
        "AWS/Lambda",
        "Sum",
        300,
    )
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert properties["AlarmActions"] == [topic]
    assert properties["TreatMissingData"] == "notBreaching"


def test_throttles_alarm_fires_on_one_throttle_and_pages_the_topic(alarmed):
    _, template, topic = alarmed

    properties = _alarm(template, "Throttles")

    assert (properties["Namespace"], properties["Statistic"]) == ("AWS/Lambda", "Sum")
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert properties["AlarmActions"] == [topic]


def test_duration_alarm_fires_when_p99_passes_80_percent_of_the_timeout(alarmed):
    _, template, topic = alarmed

    properties = _alarm(template, "Duration")

    assert properties["ExtendedStatistic"] == "p99"
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (8000, "GreaterThanThreshold")
    assert properties["AlarmActions"] == [topic]


def test_failure_queue_alarm_fires_on_the_first_waiting_message(alarmed):
    fn, template, topic = alarmed

    properties = _alarm(template, "ApproximateNumberOfMessagesVisible")

    assert (properties["Namespace"], properties["Statistic"]) == ("AWS/SQS", "Maximum")
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    queue_id = cdk.Stack.of(fn).resolve(fn.dead_letter_queue.node.default_child.logical_id)
    assert properties["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue_id, "QueueName"]}
    assert properties["AlarmActions"] == [topic]


def test_every_alarm_of_a_function_is_watched_by_its_own_alarms_object(alarmed):
    fn, template, _ = alarmed

    assert len(fn.alarms.alarms) == 4
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)


def test_alarms_without_a_topic_have_no_actions():
    stack = _stack()
    ServerlessFunction(stack, "Fn", code=echo_code(), alarms=True)

    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")

    assert len(alarms) == 4
    assert all("AlarmActions" not in a["Properties"] for a in alarms.values())


def test_alarm_topic_without_alarms_is_refused():
    stack = _stack()

    with pytest.raises(ConfigurationError, match="alarm_topic has no use with alarms=False"):
        ServerlessFunction(stack, "Fn", code=echo_code(), alarm_topic=sns.Topic(stack, "Pager"))


def test_duration_ratio_outside_zero_and_one_is_refused():
    with pytest.raises(ConfigurationError, match="duration ratio must be between 0 and 1"):
        duration_threshold_ms(Duration.seconds(10), ratio=1.2)


def test_dynamodb_stream_trigger_adds_iterator_age_and_failure_queue_alarms():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code(), alarms=True)
    trigger = DynamoDBStreamTrigger(stack, "Changes", function=fn, table=stream_table(stack))
    template = Template.from_stack(stack)

    iterator_age = _alarm(template, "IteratorAge")
    assert (iterator_age["Namespace"], iterator_age["Statistic"]) == ("AWS/Lambda", "Maximum")
    assert (iterator_age["Threshold"], iterator_age["ComparisonOperator"]) == (
        300_000,
        "GreaterThanThreshold",
    )
    depth = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "ApproximateNumberOfMessagesVisible"}}
    )
    queues = sorted(a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in depth.values())
    assert queues == sorted(
        stack.resolve(q.node.default_child.logical_id) for q in (fn.dead_letter_queue, trigger.failure_queue)
    )


def test_two_stream_triggers_share_one_iterator_age_alarm_and_watch_both_queues():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code(), alarms=True)
    DynamoDBStreamTrigger(stack, "Changes", function=fn, table=stream_table(stack))
    KinesisTrigger(
        stack,
        "Clicks",
        function=fn,
        stream=kinesis.Stream(stack, "S", encryption=kinesis.StreamEncryption.MANAGED),
    )
    template = Template.from_stack(stack)

    assert (
        len(template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "IteratorAge"}}))
        == 1
    )
    assert len(fn.alarms.watched_queues) == 3


def test_a_watched_queue_gets_a_depth_alarm_and_a_dashboard_line():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code(), alarms=True)
    trigger = SqsTrigger(stack, "Jobs", function=fn)

    fn.watch_queue(trigger.dead_letter_queue, trigger, "DeadLetterQueueDepthAlarm")

    template = Template.from_stack(stack)
    dlq_id = stack.resolve(trigger.dead_letter_queue.node.default_child.logical_id)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )
    assert [q.node.path for q in fn.monitored_queues] == ["S/Fn/FailureQueue", "S/Jobs/DeadLetterQueue"]


def test_stream_trigger_on_a_function_without_alarms_adds_no_alarm():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code())
    DynamoDBStreamTrigger(stack, "Changes", function=fn, table=stream_table(stack))

    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert fn.reads_stream


def test_alarm_topic_uses_a_rotated_key_cloudwatch_may_use_and_accepts_only_ssl():
    stack = _stack()
    alarm_topic(stack, "Pager")
    template = Template.from_stack(stack)

    (key_id,) = template.find_resources("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}})
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            }
                        )
                    ]
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "sns:Publish",
                            }
                        ),
                    ]
                )
            }
        },
    )


@pytest.fixture(scope="module")
def dashboarded():
    """A stream consumer with alarms and custom metrics, and a plain function, on one dashboard."""
    stack = _stack()
    consumer = ServerlessFunction(
        stack, "Consumer", code=echo_code(), alarms=True, environment={"SERVICE_NAME": "aggregator"}
    )
    DynamoDBStreamTrigger(stack, "Changes", function=consumer, table=stream_table(stack))
    plain = ServerlessFunction(stack, "Plain", code=echo_code(), async_failure="none")
    dashboard = ServiceDashboard(stack, "Ops")
    dashboard.add_function(
        consumer,
        custom_metrics=[CustomMetrics("LambdaPatterns/Aggregates", ("RecordsApplied", "RecordsSkipped"))],
    )
    dashboard.add_function(plain)
    consumer_id = stack.resolve(consumer.function.node.default_child.logical_id)
    return consumer_id, _dashboard(Template.from_stack(stack))["widgets"]


def _widgets(widgets, title):
    return [w for w in widgets if w["properties"].get("title") == title]


def test_dashboard_shows_invocations_errors_and_throttles_of_each_function(dashboarded):
    _, widgets = dashboarded

    found = _widgets(widgets, "Invocations, errors, throttles")

    assert len(found) == 2
    for widget in found:
        assert _metric_names(widget) == ["Invocations", "Errors", "Throttles"]
        assert all(m[-1]["stat"] == "Sum" for m in widget["properties"]["metrics"])


def test_dashboard_shows_duration_p50_and_p99_against_the_timeout(dashboarded):
    _, widgets = dashboarded

    widget = _widgets(widgets, "Duration (ms)")[0]

    assert [m[-1]["stat"] for m in widget["properties"]["metrics"]] == ["p50", "p99"]
    assert widget["properties"]["annotations"]["horizontal"][0]["value"] == 30_000


def test_dashboard_shows_concurrent_executions(dashboarded):
    _, widgets = dashboarded

    found = _widgets(widgets, "Concurrent executions")

    assert [_metric_names(w) for w in found] == [["ConcurrentExecutions"]] * 2


def test_dashboard_shows_iterator_age_only_for_the_stream_consumer(dashboarded):
    consumer_id, widgets = dashboarded

    (widget,) = _widgets(widgets, "Iterator age (ms)")

    assert widget["properties"]["metrics"] == [
        ["AWS/Lambda", "IteratorAge", "FunctionName", consumer_id, {"stat": "Maximum"}]
    ]


def test_dashboard_shows_the_depth_of_every_failure_queue_of_the_consumer(dashboarded):
    _, widgets = dashboarded

    (widget,) = _widgets(widgets, "Failed events waiting (DLQ / on-failure)")

    assert _metric_names(widget) == ["ApproximateNumberOfMessagesVisible"] * 2
    assert [m[-1]["label"] for m in widget["properties"]["metrics"]] == [
        "S/Consumer/FailureQueue",
        "S/Changes/OnFailureQueue",
    ]


def test_dashboard_reads_custom_emf_metrics_with_the_service_dimension(dashboarded):
    _, widgets = dashboarded

    (widget,) = _widgets(widgets, "LambdaPatterns/Aggregates")

    assert widget["properties"]["metrics"] == [
        ["LambdaPatterns/Aggregates", "RecordsApplied", "service", "aggregator", {"stat": "Sum"}],
        ["LambdaPatterns/Aggregates", "RecordsSkipped", "service", "aggregator", {"stat": "Sum"}],
    ]


def test_dashboard_shows_the_alarms_of_functions_that_have_them(dashboarded):
    _, widgets = dashboarded

    (widget,) = [w for w in widgets if w["type"] == "alarm"]

    # errors, throttles, duration, its own failure queue, iterator age, the trigger's failure queue
    assert len(widget["properties"]["alarms"]) == 6
    assert all(arn.startswith(("Consumer", "Changes")) for arn in widget["properties"]["alarms"])


def test_custom_metrics_without_names_are_refused():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code())

    with pytest.raises(ConfigurationError, match="need a namespace and at least one metric name"):
        ServiceDashboard(stack, "Ops").add_function(fn, custom_metrics=[CustomMetrics("NS", ())])


def test_alarms_topic_and_dashboard_pass_cdk_nag_and_cfn_lint():
    app = new_app()
    stack = cdk.Stack(app, "S")
    fn = ServerlessFunction(
        stack, "Fn", code=echo_code(), alarms=True, alarm_topic=alarm_topic(stack, "Pager")
    )
    DynamoDBStreamTrigger(stack, "Changes", function=fn, table=stream_table(stack))
    ServiceDashboard(stack, "Ops", functions=[fn])

    assembly, findings = synth_with_nag(app)

    assert findings == []
    assert cfn_lint_errors(assembly.get_stack_by_name("S").template) == []
