"""``SqsTrigger``: an SQS queue invokes a function; failed messages are redriven to a dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, Names, Token
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.batch_size import check_batch_size
from lambda_patterns.checks.batching_window import check_batching_window
from lambda_patterns.checks.exclusive import check_exclusive
from lambda_patterns.checks.max_concurrency import check_max_concurrency
from lambda_patterns.checks.max_receive_count import check_max_receive_count
from lambda_patterns.checks.recursion import check_no_self_trigger
from lambda_patterns.checks.visibility_timeout import check_visibility_timeout
from lambda_patterns.jsii_reads import node_of, path_of, seconds_of
from lambda_patterns.nag import acknowledge_rule
from lambda_patterns.props import as_mapping
from lambda_patterns.resources.queue import acknowledge_queue_encryption, failure_queue, queue_encryption
from lambda_patterns.steps.function import ServerlessFunction


class SqsTrigger(Construct):
    """Invokes ``function`` with messages of a queue, reporting failures per message.

    :param function: the function to invoke.
    :param existing_queue_obj: a queue to consume. Give it a dead-letter queue yourself, and a visibility
        timeout at least the function's timeout (checked at synth for a queue defined in this app). Default: a
        new queue (see ``queue_props``).
    :param queue_props: overrides for the new queue, merged over: SQS-managed encryption, SSL only,
        visibility timeout six times the function's timeout, and a dead-letter queue after 3 receives.
        Default: none. Cannot be given with ``existing_queue_obj``.
    :param batch_size: 1 to 10,000 (above 10, ``max_batching_window`` applies). Default: 10.
    :param max_batching_window: at least 1 second when ``batch_size`` is above 10. Default: 1 second.
    :param max_concurrency: 2 to 1,000 concurrent invocations for this queue. Default: no limit.
    :param report_batch_item_failures: Default: True.
    :param max_receive_count: receives before a message of the new queue moves to its dead-letter queue.
        Default: 3.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        existing_queue_obj: sqs.IQueue | None = None,
        queue_props: Mapping[str, Any] | sqs.QueueProps | None = None,
        batch_size: int = defaults.SQS_BATCH_SIZE,
        max_batching_window: Duration = defaults.MAX_BATCHING_WINDOW,
        max_concurrency: int | None = None,
        report_batch_item_failures: bool = defaults.REPORT_BATCH_ITEM_FAILURES,
        max_receive_count: int = defaults.SQS_MAX_RECEIVE_COUNT,
    ) -> None:
        super().__init__(scope, id)
        where = f"SqsTrigger {path_of(self)}"
        check_exclusive(where, "existing_queue_obj", existing_queue_obj, "queue_props", queue_props)
        check_batch_size(where, batch_size)
        check_max_receive_count(where, max_receive_count)
        check_batching_window(where, batch_size, max_batching_window)
        check_max_concurrency(where, max_concurrency)

        self._dead_letter_queue: sqs.IQueue | None = None
        if existing_queue_obj is not None:
            self._queue = existing_queue_obj
        else:
            self._dead_letter_queue = failure_queue(
                self, "DeadLetterQueue", f"messages of {path_of(self)}", profile=function.profile
            )
            props: dict[str, Any] = {
                **queue_encryption(self, function.profile),
                "enforce_ssl": True,
                "visibility_timeout": Duration.seconds(
                    seconds_of(function.timeout) * defaults.SQS_VISIBILITY_TIMEOUT_FACTOR
                ),
                "dead_letter_queue": sqs.DeadLetterQueue(
                    queue=self._dead_letter_queue, max_receive_count=max_receive_count
                ),
            }
            props.update(as_mapping(queue_props, "queue_props"))
            self._queue = sqs.Queue(self, "Queue", **props)
            acknowledge_queue_encryption(self._queue)
        check_visibility_timeout(where, _visibility_timeout_s(self._queue), seconds_of(function.timeout))
        check_no_self_trigger(where, function.policy.permissions, path_of(self._queue))
        self._source = sources.SqsEventSource(
            self._queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window if batch_size > 10 else None,
            max_concurrency=max_concurrency,
            report_batch_item_failures=report_batch_item_failures,
        )
        function.target.add_event_source(self._source)
        ours = (
            None if "dead_letter_queue" in as_mapping(queue_props, "queue_props") else self._dead_letter_queue
        )
        self._acknowledge_mapping(function, ours, max_receive_count)
        if self._dead_letter_queue is not None:
            function.watch_queue(self._dead_letter_queue, self, "DeadLetterQueueDepthAlarm")

    def _acknowledge_mapping(
        self, function: ServerlessFunction, dead_letter_queue: sqs.IQueue | None, max_receive_count: int
    ) -> None:
        redrive = _redrive_target(self._queue, dead_letter_queue, max_receive_count)
        function.acknowledge_sync_invocation(
            f"the SQS event source mapping of {path_of(self._queue)}, which returns a failed message to "
            "the queue" + (f" (its redrive policy moves it {redrive})" if redrive else "")
        )
        if redrive is None:
            return  # a consumed queue without a redrive policy: the finding is real
        mapping = node_of(function.target).try_find_child(
            f"SqsEventSource:{Names.node_unique_id(self._queue.node)}"
        )
        if mapping is not None:
            acknowledge_rule(
                mapping,
                "Serverless-LambdaEventSourceMappingDestination",
                f"A message this mapping fails returns to {path_of(self._queue)}, whose redrive policy "
                f"moves it {redrive}; Lambda supports on-failure destinations for stream and Kafka "
                "mappings only, not SQS",
            )

    @property
    def queue(self) -> sqs.IQueue:
        """The consumed queue."""
        return self._queue

    @property
    def dead_letter_queue(self) -> sqs.IQueue | None:
        """The dead-letter queue this construct created, if it created the queue."""
        return self._dead_letter_queue


def _redrive_target(queue: sqs.IQueue, created: sqs.IQueue | None, max_receive_count: int) -> str | None:
    """Where a failed message of ``queue`` ends: ``created`` (the dead-letter queue this trigger made and
    set, unless ``queue_props`` replaced it) or the dead-letter queue of an app-defined queue's redrive
    policy; None when the queue has no redrive policy or is not defined in this app."""
    resource = node_of(queue).default_child
    if getattr(resource, "cfn_resource_type", None) != "AWS::SQS::Queue" or not resource.redrive_policy:
        return None
    if created is not None:
        return f"to {path_of(created)} after {max_receive_count} receives"
    return "to its dead-letter queue"


def _visibility_timeout_s(queue: sqs.IQueue) -> float | None:
    """The visibility timeout of a queue defined in this app (SQS's default when it sets none); None for an
    imported queue or a value known only at deploy time, which cannot be checked here."""
    resource = node_of(queue).default_child
    if getattr(resource, "cfn_resource_type", None) != "AWS::SQS::Queue":
        return None
    value = resource.visibility_timeout
    if value is None:
        return defaults.SQS_DEFAULT_VISIBILITY_TIMEOUT_S
    return None if Token.is_unresolved(value) else value
