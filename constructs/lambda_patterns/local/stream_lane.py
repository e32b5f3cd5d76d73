"""One lane of a stream shard: the records of some partition keys (all of them with ParallelizationFactor 1),
delivered in order, one batch in flight, with Lambda's retries, bisection, record expiry and tumbling window.

AWS documents the behaviour emulated here:

- https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-errors.html and
  https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html (retries, bisection,
  MaximumRetryAttempts, MaximumRecordAgeInSeconds, the on-failure record), the same for DynamoDB streams;
- https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html (partial batch
  responses: the checkpoint is the lowest reported sequence number);
- the tumbling windows of ``tumbling.py``.

A retry, a bisection or a partial failure keeps the lane's order: the batch stays at the head of the lane
and nothing behind it is delivered before it is done or discarded.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambda_patterns.local.events import arrival_time, sequence_number, stream_failure_record
from lambda_patterns.local.functions import FunctionWorker, Outcome
from lambda_patterns.local.pollers import PollerSettings, fitting
from lambda_patterns.local.tumbling import TumblingWindow, iso_utc, returned_state

log = logging.getLogger("lambda_patterns.local")


@dataclass
class MappingContext:
    """What every lane of a stream mapping shares."""

    name: str
    kind: str
    stream_arn: str
    worker: FunctionWorker
    options: PollerSettings
    deliver: Callable[[str, Any], None]
    clock: Callable[[], float]
    stop: threading.Event
    retry_delay: float

    @property
    def label(self) -> str:
        return "DynamoDB stream" if self.kind == "dynamodb" else "Kinesis"


class StreamLane:
    """The records of one lane of a shard, waiting (``records``) or formed into batches being delivered
    (``batches``, the head in flight or being retried). The shard's reader appends records; ``step``
    delivers the next batch (or a window's final invocation)."""

    def __init__(self, context: MappingContext, shard_id: str, lane: int = 0) -> None:
        self.context = context
        self.shard_id = shard_id
        self.lane = lane
        self.records: deque[dict[str, Any]] = deque()
        self.batches: deque[list[dict[str, Any]]] = deque()
        self.attempts = 0
        self.last_outcome: Outcome | None = None
        #: The last invocation failed as a function error (a tumbling-window response without a state too).
        self.function_error = False
        self.window = (
            TumblingWindow(context.options.tumbling_window, shard_id, context.stream_arn)
            if context.options.tumbling_window
            else None
        )
        self._lock = threading.Lock()
        #: Set by the reader when it hands records over (a lane thread waits on it).
        self.wake = threading.Event()

    def add(self, records: list[dict[str, Any]]) -> None:
        """Records read from the shard for this lane, in sequence order."""
        with self._lock:
            self.records.extend(records)
        self.wake.set()

    @property
    def backlog(self) -> int:
        """Records waiting or in batches."""
        # A snapshot: the lane's thread changes its batches while the reader asks (list() holds the GIL).
        batches = list(self.batches)
        with self._lock:
            return len(self.records) + sum(len(batch) for batch in batches)

    def step(self, read_at: float = 0.0, shard_ended: bool = False, held: float | None = None) -> bool:
        """Delivers the next batch, or the open window's final invocation when it is due; False when
        there was nothing to do. ``read_at``: when the reader last read the shard (by the mapping's clock);
        ``held``: when the first record the reader still holds (batching window) arrived."""
        if self.window is not None and not self.batches:
            with self._lock:
                head = self.records[0] if self.records else None
            next_arrival = held if head is None else (arrival_time(head) or self.context.clock())
            if self.window.final_due(next_arrival, self.context.clock(), read_at, shard_ended):
                self._final()
                return True
        batch = self._head()
        if not batch:
            return False
        batch = self._expire(batch)
        if batch:
            self._invoke(batch)
        return True

    # Batches --------------------------------------------------------------------------------------------

    def _head(self) -> list[dict[str, Any]] | None:
        """The batch in flight: the one being retried, else a new one from the waiting records (up to
        BatchSize and 6 MB, and, with a tumbling window, of one window)."""
        if self.batches:
            return self.batches[0]
        with self._lock:
            if not self.records:
                return None
            waiting = list(self.records)
            if self.window is not None:
                start = self.window.of(arrival_time(waiting[0]) or self.context.clock())
                self.window.enter(start)
                same = 0
                for record in waiting:
                    if self.window.of(arrival_time(record) or self.context.clock()) != start:
                        break
                    same += 1
                waiting = waiting[:same]
            count = fitting(waiting, self.context.options.batch_size)
            batch = [self.records.popleft() for _ in range(count)]
        self.batches.append(batch)
        self.attempts = 0
        self.last_outcome = None
        return batch

    def _expire(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Discards the records of the batch older than MaximumRecordAgeInSeconds (they lead the batch:
        records are in arrival order) to the on-failure destination; returns what is left to deliver."""
        limit = self.context.options.max_record_age
        if limit == -1:
            return batch
        now = self.context.clock()
        expired = 0
        for record in batch:
            arrival = arrival_time(record)
            if arrival is None or now - arrival <= limit:
                break
            expired += 1
        if not expired:
            return batch
        self._discard(batch[:expired], "RecordAgeExceeded")
        rest = batch[expired:]
        if rest:
            self.batches[0] = rest
        else:
            self.batches.popleft()
            self.attempts = 0
        return rest

    def _trigger(self, batch: list[dict[str, Any]]) -> str:
        lanes = self.context.options.parallelization
        lane = f" lane {self.lane + 1}/{lanes}" if lanes > 1 else ""
        return f"{self.context.label} {self.shard_id}{lane} ({len(batch)} records)"

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        event: dict[str, Any] = (
            self.window.event(batch, final=False) if self.window is not None else {"Records": batch}
        )
        outcome = self.context.worker.invoke(event, self._trigger(batch))
        self.last_outcome = outcome
        self._settle(batch, outcome)

    def _settle(self, batch: list[dict[str, Any]], outcome: Outcome) -> None:
        options = self.context.options
        ok = outcome.ok
        if ok and self.window is not None:
            state = returned_state(outcome.result)
            if state is None:
                ok = False
                log.warning(
                    "%s: %s: a tumbling-window response needs a state object: the batch failed",
                    self.context.name,
                    self.shard_id,
                )
            else:
                self.window.keep(state)
        self.function_error = not ok
        start = 0
        if ok:
            reported = outcome.batch_item_failures() if options.report_failures else None
            if not reported:
                self.batches.popleft()
                self.attempts = 0
                return
            numbers = [sequence_number(record) for record in batch]
            if all(item in numbers for item in reported):
                start = min(numbers.index(item) for item in reported)
        remaining = batch[start:]
        if not ok and options.bisect and len(remaining) > 1:
            middle = len(remaining) // 2
            self.batches.popleft()
            self.batches.appendleft(remaining[middle:])
            self.batches.appendleft(remaining[:middle])
            self.attempts = 0
            log.info("%s: batch of %d split in two after a function error", self.context.name, len(remaining))
            return
        self.attempts += 1
        if options.max_retries != -1 and self.attempts > options.max_retries:
            self.batches.popleft()
            self._discard(remaining, "RetryAttemptsExhausted")
            self.attempts = 0
            return
        self.batches[0] = remaining
        self.context.stop.wait(self.context.retry_delay)

    def _discard(self, records: list[dict[str, Any]], condition: str) -> None:
        """Describes discarded records to the on-failure destination, with the last invocation of their
        batch if there was one (records that expire before their first delivery had none)."""
        context = self.context
        outcome = self.last_outcome if self.attempts else None
        record = stream_failure_record(
            kind=context.kind,
            records=records,
            shard_id=self.shard_id,
            stream_arn=context.stream_arn,
            function_arn=context.worker.spec.arn,
            request_id=outcome.request_id if outcome is not None else None,
            attempts=self.attempts,
            function_error=outcome is not None and self.function_error,
            condition=condition,
            invoked=outcome is not None,
        )
        why = "after retries ran out" if condition == "RetryAttemptsExhausted" else "as too old"
        if context.options.on_failure:
            context.deliver(context.options.on_failure, record)
            log.info(
                "%s: %d records sent to on-failure destination %s %s",
                context.name,
                len(records),
                context.options.on_failure,
                why,
            )
        else:
            log.warning(
                "%s: %d records dropped %s: no on-failure destination", context.name, len(records), why
            )

    # Tumbling windows -----------------------------------------------------------------------------------

    def _final(self) -> None:
        """The open window's final invocation, retried (after ``retry_delay``) until it succeeds."""
        window = self.window
        assert window is not None and window.start is not None
        early = " (terminated early)" if window.terminated_early else ""
        trigger = (
            f"{self.context.label} {self.shard_id} (final invoke of window {iso_utc(window.start)}{early})"
        )
        outcome = self.context.worker.invoke(window.event([], final=True), trigger)
        if outcome.ok and isinstance(outcome.result, dict):
            window.close()
            return
        log.warning(
            "%s: %s: the final invocation of the window failed; the shard waits until it succeeds",
            self.context.name,
            self.shard_id,
        )
        self.context.stop.wait(self.context.retry_delay)
