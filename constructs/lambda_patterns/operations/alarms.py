"""``FunctionAlarms``: the CloudWatch alarms that say a Lambda function needs a human, and the SNS topic
they can notify.

One alarm per way a function fails its events: errors, throttles, invocations close to the timeout, a stream
consumer falling behind (iterator age), and events parked in a dead-letter or on-failure queue.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.duration_ratio import check_duration_ratio
from lambda_patterns.jsii_reads import milliseconds_of, path_of, seconds_of
from lambda_patterns.profiles import hardened_key


def duration_threshold_ms(timeout: Duration, ratio: float = defaults.DURATION_TIMEOUT_RATIO) -> float:
    """The p99 duration, in ms, above which invocations are about to time out."""
    check_duration_ratio(ratio)
    return milliseconds_of(timeout) * ratio


def alarm_topic(
    scope: Construct, id: str, *, display_name: str | None = None, profile: str | None = None
) -> sns.Topic:
    """An SNS topic that CloudWatch alarms can actually publish to: SSL-only and encrypted at rest.

    It is encrypted with a customer managed key (rotated yearly), not the AWS managed ``alias/aws/sns``:
    that key's policy cannot be changed, does not let CloudWatch call ``kms:GenerateDataKey*``/``kms:Decrypt``,
    and an alarm's action then fails with "CloudWatch Alarms does not have authorization to access the SNS
    topic encryption key" - the page is silently never sent. The topic policy that ``enforce_ssl`` creates
    replaces SNS's default policy, so it also allows CloudWatch to publish, for this account's alarms only.

    ``profile="hardened"`` uses the stack's one customer-managed key instead of a key of its own; default:
    the context ``lambda-patterns:profile``.
    """
    account = Stack.of(scope).account
    key = hardened_key(scope, profile)
    if key is not None:
        key.allow_cloudwatch_alarms()
    else:
        key = kms.Key(
            scope,
            f"{id}Key",
            enable_key_rotation=True,
            description=f"Encrypts the alarm topic {id}; usable by CloudWatch alarms of this account",
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
    topic = sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        )
    )
    return topic


class FunctionAlarms(Construct):
    """CloudWatch alarms for one Lambda function, each notifying ``alarm_topic`` when it fires.

    Always: ``errors`` (Errors sum >= 1 in 5 minutes), ``throttles`` (Throttles sum >= 1) and ``duration``
    (p99 Duration > 80% of the timeout). With ``failure_queue``: its depth
    (ApproximateNumberOfMessagesVisible > 0). Stream triggers add ``iterator_age`` and their own failure
    queue's depth through :meth:`add_iterator_age_alarm` and :meth:`add_queue_depth_alarm`.

    Missing data is not breaching: a function that is not invoked is healthy, not alarming.

    :param function: the function to watch. Its ``FunctionName`` metrics cover every version and alias.
    :param timeout: the function's timeout, for the duration alarm.
    :param alarm_topic: where alarms send notifications. Default: none (alarms without actions, visible in
        the console and on dashboards only).
    :param failure_queue: the function's dead-letter or on-failure queue. Default: none.
    :param period: the window each alarm evaluates. Default: 5 minutes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        timeout: Duration,
        alarm_topic: sns.ITopic | None = None,
        failure_queue: sqs.IQueue | None = None,
        period: Duration = defaults.ALARM_PERIOD,
    ) -> None:
        super().__init__(scope, id)
        self._function = function
        self._topic = alarm_topic
        # One action for all of them: it only names the topic, and each one made is a jsii round trip.
        self._action = cloudwatch_actions.SnsAction(alarm_topic) if alarm_topic is not None else None
        self._period = period
        self._what = path_of(function)
        self._alarms: list[cloudwatch.Alarm] = []
        self._queue_alarms: dict[str, cloudwatch.Alarm] = {}
        self._iterator_age: cloudwatch.Alarm | None = None

        self.errors = self._sum_alarm(
            "Errors", function.metric_errors, defaults.ERRORS_THRESHOLD, "invocations failed with an error"
        )
        self.throttles = self._sum_alarm(
            "Throttles",
            function.metric_throttles,
            defaults.THROTTLES_THRESHOLD,
            "invocations were throttled (concurrency limit reached)",
        )
        self.duration = self._alarm(
            self,
            "Duration",
            function.metric_duration(statistic=defaults.DURATION_STATISTIC, period=period),
            threshold=duration_threshold_ms(timeout),
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description=(
                f"{self._what}: {defaults.DURATION_STATISTIC} duration above "
                f"{defaults.DURATION_TIMEOUT_RATIO:.0%} of the {seconds_of(timeout):g} s timeout"
            ),
        )
        if failure_queue is not None:
            self.add_queue_depth_alarm(failure_queue, scope=self, id="FailureQueueDepth")

    def add_iterator_age_alarm(
        self, threshold: Duration = defaults.ITERATOR_AGE_THRESHOLD
    ) -> cloudwatch.Alarm:
        """An alarm on the function's ``IteratorAge`` (Maximum): the age of the last record of each batch
        from a DynamoDB or Kinesis stream. One per function: the metric is per function, so a second stream
        trigger reuses it."""
        if self._iterator_age is None:
            self._iterator_age = self._alarm(
                self,
                "IteratorAge",
                self._function.metric("IteratorAge", statistic="Maximum", period=self._period),
                threshold=milliseconds_of(threshold),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=(
                    f"{self._what}: stream records wait more than {seconds_of(threshold):g} s "
                    "(the consumer is falling behind)"
                ),
            )
        return self._iterator_age

    def add_queue_depth_alarm(
        self, queue: sqs.IQueue, *, scope: Construct | None = None, id: str = "QueueDepthAlarm"
    ) -> cloudwatch.Alarm:
        """An alarm on ``queue`` holding any message (ApproximateNumberOfMessagesVisible > 0), created in
        ``scope`` (default: here). A queue already watched is not watched twice."""
        key = path_of(queue)
        if key not in self._queue_alarms:
            self._queue_alarms[key] = self._alarm(
                scope or self,
                id,
                queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=self._period),
                threshold=defaults.QUEUE_DEPTH_THRESHOLD,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=f"{self._what}: events that could not be processed are waiting in {key}",
            )
        return self._queue_alarms[key]

    def _sum_alarm(
        self, id: str, metric: Callable[..., cloudwatch.Metric], threshold: float, what: str
    ) -> cloudwatch.Alarm:
        """An alarm when the sum of ``metric`` over a period reaches ``threshold``."""
        return self._alarm(
            self,
            id,
            metric(statistic="Sum", period=self._period),
            threshold=threshold,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description=f"{self._what}: {what}",
        )

    def _alarm(
        self,
        scope: Construct,
        id: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        description: str,
    ) -> cloudwatch.Alarm:
        alarm = metric.create_alarm(
            scope,
            id,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=defaults.ALARM_EVALUATION_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        if self._action is not None:
            alarm.add_alarm_action(self._action)
        self._alarms.append(alarm)
        return alarm

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Every alarm created so far, in creation order."""
        return list(self._alarms)

    @property
    def iterator_age(self) -> cloudwatch.Alarm | None:
        """The iterator-age alarm, once a stream trigger asked for it."""
        return self._iterator_age

    @property
    def alarm_topic(self) -> sns.ITopic | None:
        """Where the alarms notify, if anywhere."""
        return self._topic

    @property
    def watched_queues(self) -> list[str]:
        """Construct paths of the queues whose depth is alarmed."""
        return list(self._queue_alarms)
