"""Background threads that do what Lambda's event source mappings and event queues do, against moto.

This module holds the base ``Poller``, the settings a mapping's pollers honour (``PollerSettings``), what
they share (Lambda's 6 MB payload limit) and the feeders of the runner's own queues (S3 notifications, SNS
messages, EventBridge events, schedules). The mapping pollers themselves are in ``sqs_poller.py`` and
``stream_poller.py`` (re-exported here).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lambda_patterns.local.events import sns_event
from lambda_patterns.local.functions import AsyncInvoker

log = logging.getLogger("lambda_patterns.local")

#: Lambda's payload limit for a synchronous invocation, which bounds a batch too (6 MB).
PAYLOAD_LIMIT = 6 * 1024 * 1024


class Poller:
    """Daemon threads running ``poll_once`` until stopped, each pausing ``interval`` seconds when idle.

    ``threads`` threads run ``poll_once`` side by side (an SQS mapping's concurrent pollers); 1 by default.
    """

    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self.threads = 1
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Starts polling in the background."""
        for number in range(max(1, self.threads)):
            name = self.name if number == 0 else f"{self.name}#{number}"
            thread = threading.Thread(target=self._run, daemon=True, name=name)
            self._threads.append(thread)
            thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception as error:
                if self._stop.is_set():
                    return
                log.warning("%s: polling failed: %s", self.name, error)
                busy = False
            if not busy:
                self._stop.wait(self.interval)

    def poll_once(self) -> bool:
        """One round of polling; True if it found work (then the next round starts at once)."""
        raise NotImplementedError

    def signal_stop(self) -> None:
        """Tells the threads to stop after the round in progress, without waiting for them."""
        self._stop.set()

    def stop(self) -> None:
        """Stops after the round in progress."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads = []


class QueuePoller(Poller):
    """A poller reading the SQS queue at ``queue_url``."""

    def __init__(self, name: str, sqs: Any, queue_url: str, interval: float) -> None:
        super().__init__(name, interval)
        self._sqs = sqs
        self._url = queue_url

    def _delete(self, message: dict) -> None:
        """Removes a handled message from the queue."""
        self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


@dataclass
class PollerSettings:
    """The settings of a synthesized event source mapping that its poller honours (read from its
    ``BatchSize``, ``MaximumRetryAttempts``...; the construct-side props of a stream mapping are
    ``lambda_patterns.StreamOptions``). An SQS mapping reads ``batch_size``, ``report_failures``,
    ``batching_window``, ``filters`` and ``max_concurrency`` only. ``filters`` are the mapping's
    ``FilterCriteria`` patterns: a record matching none is never delivered (SQS deletes it), and a batch
    left empty is no invocation.

    :param batching_window: ``MaximumBatchingWindowInSeconds``: records are gathered this long (from the
        first one read) unless the batch is full first (BatchSize, or the 6 MB payload limit).
    :param max_record_age: ``MaximumRecordAgeInSeconds``; -1: records never expire.
    :param tumbling_window: ``TumblingWindowInSeconds``; 0: no windows.
    :param parallelization: ``ParallelizationFactor``: concurrent batches per shard (1 to 10).
    """

    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    report_failures: bool = False
    max_retries: int = -1
    bisect: bool = False
    on_failure: str | None = None
    filters: list[dict[str, Any]] = field(default_factory=list)
    batching_window: float = 0.0
    max_record_age: int = -1
    tumbling_window: int = 0
    parallelization: int = 1
    #: An SQS mapping's ``ScalingConfig.MaximumConcurrency``: its batches in flight at most; None: as many
    #: as the function may run.
    max_concurrency: int | None = None

    def describe(self, stream: bool) -> str:
        """What the poller emulates, for the log line of each mapping (``batch 100, tumbling window 1 s``)."""
        parts = [f"batch {self.batch_size}"]
        if self.batching_window:
            parts.append(f"batching window {self.batching_window:g} s")
        if self.filters:
            parts.append(f"{len(self.filters)} filter{'s' if len(self.filters) != 1 else ''}")
        if self.max_concurrency is not None:
            parts.append(f"at most {self.max_concurrency} concurrent batches")
        if self.report_failures:
            parts.append("partial batch responses")
        if stream:
            parts.append(
                f"{self.parallelization} concurrent batch{'es' if self.parallelization > 1 else ''} per shard"
            )
            if self.tumbling_window:
                parts.append(f"tumbling window {self.tumbling_window} s")
            if self.max_record_age != -1:
                parts.append(f"records expire after {self.max_record_age} s")
            if self.bisect:
                parts.append("bisect on error")
            parts.append("retries unbounded" if self.max_retries == -1 else f"{self.max_retries} retries")
            if self.on_failure:
                parts.append(f"on failure to {self.on_failure}")
        return ", ".join(parts)


def payload_size(record: Any) -> int:
    """The bytes a record takes in an event's JSON."""
    return len(json.dumps(record, separators=(",", ":")).encode())


def fitting(records: Iterable[Any], batch_size: int, limit: int = PAYLOAD_LIMIT) -> int:
    """How many of ``records``, from the first, make one batch: at most ``batch_size`` and within the
    payload limit (at least one, so that a record too big alone still reaches the function and fails there,
    as Lambda reports it)."""
    count = total = 0
    for record in records:
        total += payload_size(record) + 1
        if count and (count >= batch_size or total > limit):
            break
        count += 1
    return count


class QueueFeeder(QueuePoller):
    """Reads a queue the runner created to receive what moto's services deliver (S3 notifications, SNS
    messages, EventBridge events) and hands each as an event to a function's async invoker."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoker: AsyncInvoker,
        to_event: Callable[[str], Any | None],
        trigger: str,
        interval: float = 0.2,
    ) -> None:
        super().__init__(f"feed:{trigger}", sqs, queue_url, interval)
        self._invoker = invoker
        self._to_event = to_event
        self._trigger = trigger

    def poll_once(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages:
            event = self._to_event(message["Body"])
            if event is not None:
                self._invoker.submit(event, self._trigger)
            self._delete(message)
        return bool(messages)


def s3_event_from_body(body: str) -> Any | None:
    """The S3 event moto's server put on the queue; None for S3's test event."""
    event = json.loads(body)
    return None if event.get("Event") == "s3:TestEvent" else event


def sns_event_from_body(subscription_arn: str) -> Callable[[str], Any]:
    """Turns the SNS envelope an SQS subscriber receives into the event a Lambda subscriber receives."""
    return lambda body: sns_event(json.loads(body), subscription_arn)


class Schedule(Poller):
    """An EventBridge schedule ``rate(...)``, fired every ``interval`` seconds (scaled down)."""

    def __init__(self, fire: Callable[[], None], interval: float, name: str) -> None:
        super().__init__(f"schedule:{name}", interval)
        self._fire = fire

    def poll_once(self) -> bool:
        if self._stop.wait(self.interval):
            return True
        self._fire()
        return True


# The mapping pollers build on the classes above; importing them last keeps ``from pollers import
# SqsMappingPoller`` working for the modules and tests that import them from here.
from lambda_patterns.local.sqs_poller import SqsMappingPoller  # noqa: E402
from lambda_patterns.local.stream_poller import StreamMappingPoller  # noqa: E402

__all__ = [
    "PAYLOAD_LIMIT",
    "Poller",
    "PollerSettings",
    "QueueFeeder",
    "QueuePoller",
    "Schedule",
    "SqsMappingPoller",
    "StreamMappingPoller",
    "fitting",
    "payload_size",
    "s3_event_from_body",
    "sns_event_from_body",
]
