"""What the DynamoDB-stream and Kinesis triggers share: the options that keep a poison record from
blocking a shard, the queue that keeps it, and the base class that wires both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from lambda_patterns import defaults
from lambda_patterns.checks.batch_size import check_batch_size
from lambda_patterns.checks.recursion import check_no_self_trigger
from lambda_patterns.checks.stream_parallelization import check_parallelization_factor
from lambda_patterns.checks.stream_retries import check_stream_retries
from lambda_patterns.checks.stream_tumbling_window import check_tumbling_window
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.resources.queue import failure_queue

if TYPE_CHECKING:
    from lambda_patterns.steps.function import ServerlessFunction

_EventSource = TypeVar("_EventSource", bound=lambda_.IEventSource)


@dataclass(frozen=True)
class StreamOptions:
    """Batch and failure settings of a stream trigger. Every default is in ``defaults``."""

    batch_size: int = defaults.BATCH_SIZE
    starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON
    bisect_batch_on_error: bool = defaults.STREAM_BISECT_BATCH_ON_ERROR
    retry_attempts: int = defaults.STREAM_RETRY_ATTEMPTS
    max_record_age: Duration = defaults.STREAM_MAX_RECORD_AGE
    report_batch_item_failures: bool = defaults.REPORT_BATCH_ITEM_FAILURES
    max_batching_window: Duration = defaults.MAX_BATCHING_WINDOW
    parallelization_factor: int = 1
    #: Aggregation windows; Lambda then names the shard in each event. Default: none.
    tumbling_window: Duration | None = None

    def validate(self, where: str) -> None:
        check_batch_size(where, self.batch_size)
        check_stream_retries(where, self.retry_attempts)
        check_parallelization_factor(where, self.parallelization_factor)
        check_tumbling_window(where, self.tumbling_window)

    def source_kwargs(self, on_failure: lambda_.IEventSourceDlq) -> dict:
        return {
            "batch_size": self.batch_size,
            "starting_position": self.starting_position,
            "bisect_batch_on_error": self.bisect_batch_on_error,
            "retry_attempts": self.retry_attempts,
            "max_record_age": self.max_record_age,
            "report_batch_item_failures": self.report_batch_item_failures,
            "max_batching_window": self.max_batching_window,
            "parallelization_factor": self.parallelization_factor,
            "tumbling_window": self.tumbling_window,
            "on_failure": on_failure,
        }


class StreamTrigger(Construct):
    """The base of the stream triggers: ReportBatchItemFailures, bisect-on-error, bounded retries and record
    age are on (``StreamOptions``), and batches that still fail are described in an on-failure queue, for
    replay from the stream."""

    def _wire(
        self,
        where: str,
        function: ServerlessFunction,
        source: IConstruct,
        event_source_type: Callable[..., _EventSource],
        *,
        options: StreamOptions | None,
        existing_failure_queue: sqs.IQueue | None,
        filters: list[dict] | None,
        purpose: str,
    ) -> _EventSource:
        """Validate, then connect ``source`` to ``function`` through ``event_source_type(source, ...)``, which
        it returns, with the on-failure queue (described by ``purpose``) and monitoring: the steps every
        stream trigger takes."""
        options = options or StreamOptions()
        options.validate(where)
        check_no_self_trigger(where, function.policy.permissions, path_of(source))
        self._failure_queue, dlq = on_failure_queue(self, existing_failure_queue, purpose, function.profile)
        event_source = event_source_type(source, filters=filters, **options.source_kwargs(dlq))
        function.target.add_event_source(event_source)
        function.acknowledge_sync_invocation(
            f"the event source mapping of {path_of(source)}, whose on-failure destination "
            f"{path_of(self._failure_queue)} keeps the batches that fail every retry"
        )
        # Iterator age and failure-queue alarms, when the function has alarms on.
        function.watch_stream(self._failure_queue, self)
        return event_source

    @property
    def failure_queue(self) -> sqs.IQueue:
        """Where batches that failed every retry are described."""
        return self._failure_queue


def on_failure_queue(
    scope: Construct, existing: sqs.IQueue | None, purpose: str, profile: str | None = None
) -> tuple[sqs.IQueue, sources.SqsDlq]:
    """The given queue or a new encrypted one (as ``profile`` says), as a stream's on-failure destination."""
    queue = existing or failure_queue(scope, "OnFailureQueue", purpose, profile=profile)
    return queue, sources.SqsDlq(queue)
