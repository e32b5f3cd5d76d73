"""``EventBridgeTrigger``: an EventBridge rule (event pattern or schedule) invokes a function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.exactly_one import check_exactly_one
from lambda_patterns.checks.schedule_bus import check_schedule_bus
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.profiles import StackKey
from lambda_patterns.resources.queue import failure_queue
from lambda_patterns.steps.function import ServerlessFunction


class EventBridgeTrigger(Construct):
    """Invokes ``function`` for events matching ``event_pattern``, or on ``schedule``: exactly one of the two.

    :param function: the function to invoke.
    :param event_pattern: which events. Default: none (then ``schedule`` is required).
    :param schedule: e.g. ``events.Schedule.rate(Duration.minutes(5))``. Default: none.
    :param event_bus: Default: the account's default bus.
    :param retry_attempts: EventBridge's delivery retries. Default: 2.
    :param max_event_age: Default: 6 hours.
    :param existing_dead_letter_queue: where undeliverable events go. Default: a new encrypted queue.
    :param description: the rule's description. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        event_pattern: events.EventPattern | None = None,
        schedule: events.Schedule | None = None,
        event_bus: events.IEventBus | None = None,
        retry_attempts: int = defaults.ASYNC_RETRY_ATTEMPTS,
        max_event_age: Duration = defaults.ASYNC_MAX_EVENT_AGE,
        existing_dead_letter_queue: sqs.IQueue | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"EventBridgeTrigger {path_of(self)}"
        check_exactly_one(where, "event_pattern", event_pattern, "schedule", schedule)
        check_schedule_bus(where, schedule, event_bus)
        self._dead_letter_queue = existing_dead_letter_queue or failure_queue(
            self, "DeadLetterQueue", f"undeliverable events of {path_of(self)}", profile=function.profile
        )
        self._rule = events.Rule(
            self,
            "Rule",
            event_pattern=event_pattern,
            schedule=schedule,
            event_bus=event_bus,
            description=description,
            targets=[
                targets.LambdaFunction(
                    function.target,
                    dead_letter_queue=self._dead_letter_queue,
                    retry_attempts=retry_attempts,
                    max_event_age=max_event_age,
                )
            ],
        )
        key = self._dead_letter_queue.encryption_master_key
        if existing_dead_letter_queue is None and isinstance(key, StackKey):
            key.allow_delivery_from("events")
        function.watch_queue(self._dead_letter_queue, self, "DeadLetterQueueDepthAlarm")

    @property
    def rule(self) -> events.Rule:
        """The EventBridge rule."""
        return self._rule

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        """Where events EventBridge could not deliver go."""
        return self._dead_letter_queue
