"""``PurchaseEventProcessor``: purchase events on SNS -> stored purchases and product/customer aggregates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.jsii_reads import node_of, path_of
from lambda_patterns.operations.dashboard import CustomMetrics
from lambda_patterns.patterns.pattern_function import (
    MAPPING_INVOKED,
    PatternConstruct,
    build_pattern_function,
)
from lambda_patterns.permissions import batch_get_items, put_items, send_messages, update_items
from lambda_patterns.profiles import StackKey
from lambda_patterns.resources.queue import failure_queue
from lambda_patterns.resources.tables import secure_table
from lambda_patterns.resources.topics import secure_topic
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.triggers.sqs import SqsTrigger

#: What the handler counts (EMF), per ``service``: shown on the stack's dashboard.
PURCHASE_METRICS = CustomMetrics(
    namespace="LambdaPatterns/Purchases",
    names=("PurchasesRecorded", "DuplicatePurchases", "InvalidPurchases", "PurchaseWriteFailures"),
    title="Purchases recorded, duplicate, invalid; write failures",
)


class PurchaseEventProcessor(PatternConstruct):
    """An encrypted SNS topic for purchase events, an SQS queue subscribed to it (a buffer that absorbs
    bursts, with a dead-letter queue; the subscription has its own for what SNS cannot deliver), and a function that stores each purchase once and updates per-product
    and per-customer aggregates a recommendation feature can read, in one transaction.

    Besides its own props below, it takes those of every pattern (``alarm_topic``, ``deployment``,
    ``function_props`` and ``profile``: see :class:`PatternConstruct`).

    :param existing_topic_obj: the purchase topic. Default: a new topic encrypted with the AWS-managed SNS
        key, SSL-only.
    :param topic_props: overrides for the new topic. Default: none.
    :param existing_purchases_table_obj: keyed ``pk`` (S) = purchase id. Default: a new table.
    :param purchases_table_props: overrides for the new purchases table. Default: none.
    :param existing_aggregates_table_obj: keyed ``pk`` (S) + ``sk`` (S). Default: a new table.
    :param aggregates_table_props: overrides for the new aggregates table. Default: none.
    :param batch_size: messages per invocation. Default: 10.
    :param max_receive_count: receives before a message moves to the dead-letter queue. Default: 3.
    :param alarm_topic: also notified of messages in the dead-letter queue.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        existing_topic_obj: sns.ITopic | None = None,
        topic_props: Mapping[str, Any] | sns.TopicProps | None = None,
        existing_purchases_table_obj: dynamodb.ITable | None = None,
        purchases_table_props: Mapping[str, Any] | dynamodb.TablePropsV2 | None = None,
        existing_aggregates_table_obj: dynamodb.ITable | None = None,
        aggregates_table_props: Mapping[str, Any] | dynamodb.TablePropsV2 | None = None,
        function_props: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
        batch_size: int = defaults.SQS_BATCH_SIZE,
        max_receive_count: int = defaults.PURCHASE_MAX_RECEIVE_COUNT,
        alarm_topic: sns.ITopic | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id, alarm_topic, deployment, function_props, profile)
        # Validate.
        self._check_existing_or_props(
            topic=(existing_topic_obj, topic_props),
            purchases_table=(existing_purchases_table_obj, purchases_table_props),
            aggregates_table=(existing_aggregates_table_obj, aggregates_table_props),
        )

        # Build.
        self._topic = existing_topic_obj or secure_topic(self, "Purchases", overrides=topic_props)
        self._purchases = existing_purchases_table_obj or secure_table(
            self, "PurchasesTable", partition_key="pk", overrides=purchases_table_props
        )
        self._aggregates = existing_aggregates_table_obj or secure_table(
            self, "AggregatesTable", partition_key="pk", sort_key="sk", overrides=aggregates_table_props
        )
        self._pattern_function = build_pattern_function(
            self,
            handler="purchase_processor",
            description="Stores purchases once and updates product and customer aggregates",
            default_props=MAPPING_INVOKED,
            # One consistent BatchGetItem over both tables, then one transaction: the purchase is Put once
            # (never updated or deleted: a recorded purchase cannot be rewritten), aggregates are Updated,
            # and a product's first buyer marker is Put.
            permissions=[
                batch_get_items(self._purchases),
                put_items(self._purchases),
                batch_get_items(self._aggregates),
                update_items(self._aggregates),
                put_items(self._aggregates),
            ],
            environment={
                "PURCHASES_TABLE": self._purchases.table_name,
                "AGGREGATES_TABLE": self._aggregates.table_name,
                "METRICS_NAMESPACE": PURCHASE_METRICS.namespace,
            },
            **self._function_options,
        )

        # Wire: SNS -> buffer queue (with its dead-letter queue) -> function, failures reported per message.
        self._trigger = SqsTrigger(
            self,
            "OnPurchase",
            function=self.function,
            batch_size=batch_size,
            max_receive_count=max_receive_count,
        )
        # A message SNS cannot deliver to the buffer (its policy or key changed, the queue was deleted) is
        # kept here instead of being dropped after SNS's retries.
        self._subscription_dead_letter_queue = failure_queue(
            self,
            "SubscriptionDeadLetterQueue",
            f"purchase events SNS could not deliver to {path_of(self._trigger.queue)}",
        )
        if isinstance(self._trigger.queue.encryption_master_key, StackKey):
            self._subscribe_to_stack_key_queue(self._trigger.queue.encryption_master_key)
        else:
            self._topic.add_subscription(
                subscriptions.SqsSubscription(
                    self._trigger.queue, dead_letter_queue=self._subscription_dead_letter_queue
                )
            )
        self.function.watch_queue(
            self._subscription_dead_letter_queue, self, "SubscriptionDeadLetterQueueDepthAlarm"
        )
        # An invalid purchase can never succeed: the function moves it to the dead-letter queue itself at
        # once (sending it there by URL) instead of failing it until SQS moves it after max_receive_count.
        rejected = self._trigger.dead_letter_queue
        if rejected is not None:
            self.function.function.add_environment("REJECTED_QUEUE_URL", rejected.queue_url)
            self.function.policy.add(send_messages(rejected))

    def _subscribe_to_stack_key_queue(self, key: StackKey) -> None:
        # What SqsSubscription does, but the key lets SNS in under conditions on this account and Region:
        # SqsSubscription's statement is unconditioned or names the topic, which the same key encrypts
        # (a cycle in CloudFormation).
        key.allow_delivery_from("sns")
        queue = self._trigger.queue
        policy = queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self._topic.topic_arn}},
            )
        )
        subscription = sns.Subscription(
            self,
            "Subscription",
            topic=self._topic,
            endpoint=queue.queue_arn,
            protocol=sns.SubscriptionProtocol.SQS,
            dead_letter_queue=self._subscription_dead_letter_queue,
        )
        if policy.policy_dependable is not None:
            node_of(subscription).add_dependency(policy.policy_dependable)

    @property
    def topic(self) -> sns.ITopic:
        """The topic producers publish purchase events to."""
        return self._topic

    @property
    def queue(self) -> sqs.IQueue:
        """The buffer queue subscribed to the topic."""
        return self._trigger.queue

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        """Where messages go after ``max_receive_count`` failed receives."""
        return self._trigger.dead_letter_queue

    @property
    def subscription_dead_letter_queue(self) -> sqs.IQueue:
        """Where purchase events go that SNS could not deliver to the buffer queue."""
        return self._subscription_dead_letter_queue

    @property
    def purchases_table(self) -> dynamodb.ITable:
        """One item per purchase, keyed by purchase id."""
        return self._purchases

    @property
    def aggregates_table(self) -> dynamodb.ITable:
        """Per-product and per-customer aggregates."""
        return self._aggregates
