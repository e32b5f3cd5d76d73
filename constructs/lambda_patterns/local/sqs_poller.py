"""An SQS event source mapping, as Lambda runs one: concurrent pollers, each receiving a batch, invoking
the function with it and deleting what succeeded.

AWS documents the behaviour emulated here:

- https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html (Lambda scales the pollers of a
  queue up to the function's concurrency; each poller has one batch in flight);
- https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html (partial batch responses);
- https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching
  (a batching window gathers records until the batch is full, the window ends or the payload reaches 6 MB).

A FIFO queue's message groups are SQS's to keep: moto's server, as SQS does, returns no message of a group
while another of the group is in flight, so two pollers never hold one group at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from lambda_patterns.local.events import sqs_record
from lambda_patterns.local.filter_patterns import keep_matching
from lambda_patterns.local.functions import FunctionWorker
from lambda_patterns.local.naming import last_part
from lambda_patterns.local.pollers import PAYLOAD_LIMIT, PollerSettings, QueuePoller, payload_size

log = logging.getLogger("lambda_patterns.local")

#: How long a poller other than the first waits, idle, before it looks at the queue again by itself.
IDLE_WAIT_S = 5.0


class SqsMappingPoller(QueuePoller):
    """An SQS event source mapping: ``worker.concurrency`` pollers (read when the mapping starts; fewer with
    a ScalingConfig MaximumConcurrency below it), each with one batch of up to BatchSize messages in
    flight; with ReportBatchItemFailures only the reported messages return to the queue. A failed message
    becomes visible again after ``retry_visibility`` seconds rather than the queue's visibility timeout,
    and moto's server moves it to the dead-letter queue
    after the redrive policy's maxReceiveCount, as SQS does. With a batching window a poller keeps
    receiving until the batch is full (BatchSize or 6 MB) or the window, counted from its first message,
    ends."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        worker: FunctionWorker,
        options: PollerSettings,
        interval: float = 0.2,
        retry_visibility: int = 1,
    ) -> None:
        super().__init__(f"sqs:{last_part(queue_arn)}->{worker.spec.name}", sqs, queue_url, interval)
        self._arn = queue_arn
        self._worker = worker
        self._options = options
        self._retry_visibility = retry_visibility
        #: Set when a poller found messages: the others, idle, look again (see ``_idle``).
        self._work = threading.Event()

    def start(self) -> None:
        """Starts one poller thread per invocation the function may run at once, or per batch the
        mapping's MaximumConcurrency allows if that is fewer."""
        threads = max(1, int(getattr(self._worker, "concurrency", 1) or 1))
        if self._options.max_concurrency is not None:
            threads = min(threads, self._options.max_concurrency)
        self.threads = threads
        super().start()

    def signal_stop(self) -> None:
        super().signal_stop()
        self._work.set()  # wakes the idle pollers

    def stop(self) -> None:
        self.signal_stop()
        super().stop()

    def _idle(self) -> None:
        """After an empty receive: the first poller looks again after ``interval``, as one poller does; the
        others wait until a poller finds messages (or a few seconds), so an idle queue costs one poller's
        receives, not one per invocation the function may run, as Lambda scales an idle queue's pollers
        down."""
        if threading.current_thread().name == self.name:
            return
        self._work.clear()
        self._work.wait(IDLE_WAIT_S)

    def _receive_some(self, count: int) -> list[dict]:
        return self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=min(10, count),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])

    def _receive(self) -> list[dict]:
        """One batch: messages received until BatchSize, or the payload limit, or (without a batching
        window) an empty receive, or (with one) the end of the window."""
        messages: list[dict] = []
        size = 0
        batch_size = self._options.batch_size
        window = self._options.batching_window
        deadline: float | None = None
        while len(messages) < batch_size and size < PAYLOAD_LIMIT and not self._stop.is_set():
            got = self._receive_some(batch_size - len(messages))
            messages.extend(got)
            size += sum(payload_size(sqs_record(message, self._arn)) for message in got)
            if not window:
                if not got:
                    break
                continue
            if not messages:
                break
            if deadline is None:
                deadline = time.monotonic() + window
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not got:
                self._stop.wait(min(self.interval, left))
        return self._within_payload(messages)

    def _within_payload(self, messages: list[dict]) -> list[dict]:
        """The first messages that fit in 6 MB; the others go back to the queue at once."""
        kept: list[dict] = []
        total = 0
        for message in messages:
            total += payload_size(sqs_record(message, self._arn)) + 1
            if kept and total > PAYLOAD_LIMIT:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                continue
            kept.append(message)
        return kept

    def poll_once(self) -> bool:
        received = self._receive()
        if not received:
            self._idle()
            return False
        self._work.set()
        messages, dropped = keep_matching(
            self._options.filters, received, lambda message: sqs_record(message, self._arn)
        )
        for message in dropped:
            self._delete(message)
        if dropped:
            log.info("%s: %d messages matched no filter and were deleted", self.name, len(dropped))
        if not messages:
            return True
        outcome = self._worker.invoke(
            {"Records": [sqs_record(message, self._arn) for message in messages]},
            f"SQS {last_part(self._arn)} ({len(messages)} messages)",
        )
        failed: set[str] = {message["MessageId"] for message in messages}
        if outcome.ok:
            reported = outcome.batch_item_failures() if self._options.report_failures else None
            if not reported:
                failed = set()
            elif all(item in failed for item in reported):
                failed = set(reported)
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_visibility,
                )
            else:
                self._delete(message)
        return True
