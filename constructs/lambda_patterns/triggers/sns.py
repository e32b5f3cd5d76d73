"""``SnsTrigger``: an SNS topic invokes a function; undeliverable messages go to a dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns.checks.exclusive import check_exclusive
from lambda_patterns.checks.recursion import check_no_self_trigger
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.profiles import StackKey, hardened_key
from lambda_patterns.props import as_mapping
from lambda_patterns.resources.queue import failure_queue
from lambda_patterns.steps.function import ServerlessFunction


class SnsTrigger(Construct):
    """Subscribes ``function`` to a topic.

    :param function: the function to invoke.
    :param existing_topic_obj: the topic. Default: a new one (see ``topic_props``).
    :param topic_props: overrides for the new topic, merged over: encrypted with the AWS-managed SNS key,
        SSL-only. Default: none. Cannot be given with ``existing_topic_obj``.
    :param filter_policy: SNS subscription filter. Default: every message.
    :param existing_dead_letter_queue: where messages SNS cannot deliver go. Default: a new encrypted queue.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        existing_topic_obj: sns.ITopic | None = None,
        topic_props: Mapping[str, Any] | sns.TopicProps | None = None,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        existing_dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"SnsTrigger {path_of(self)}"
        check_exclusive(where, "existing_topic_obj", existing_topic_obj, "topic_props", topic_props)
        if existing_topic_obj is not None:
            self._topic = existing_topic_obj
        else:
            key = hardened_key(self, function.profile)
            props: dict[str, Any] = {
                "master_key": key or kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
                "enforce_ssl": True,
            }
            props.update(as_mapping(topic_props, "topic_props"))
            self._topic = sns.Topic(self, "Topic", **props)
        check_no_self_trigger(where, function.policy.permissions, path_of(self._topic))
        self._dead_letter_queue = existing_dead_letter_queue or failure_queue(
            self,
            "DeadLetterQueue",
            f"undeliverable messages of {path_of(self._topic)}",
            profile=function.profile,
        )
        dead_letter_key = self._dead_letter_queue.encryption_master_key
        if existing_dead_letter_queue is None and isinstance(dead_letter_key, StackKey):
            dead_letter_key.allow_delivery_from("sns")
        self._topic.add_subscription(
            subscriptions.LambdaSubscription(
                function.target, dead_letter_queue=self._dead_letter_queue, filter_policy=filter_policy
            )
        )
        function.watch_queue(self._dead_letter_queue, self, "DeadLetterQueueDepthAlarm")

    @property
    def topic(self) -> sns.ITopic:
        """The topic the function is subscribed to."""
        return self._topic

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        """Where messages SNS could not deliver go."""
        return self._dead_letter_queue
