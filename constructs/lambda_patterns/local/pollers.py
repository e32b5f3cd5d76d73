"""Background threads that do what Lambda's event source mappings and event queues do, against moto."""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambda_patterns.local.events import (
    dynamodb_record,
    kinesis_record,
    sequence_number,
    sns_event,
    sqs_record,
    stream_failure_record,
)
from lambda_patterns.local.filter_patterns import keep_matching
from lambda_patterns.local.functions import AsyncInvoker, FunctionWorker
from lambda_patterns.local.naming import last_part

log = logging.getLogger("lambda_patterns.local")


class Poller:
    """A daemon thread running ``poll_once`` until stopped, pausing ``interval`` seconds when idle."""

    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts polling in the background."""
        self._thread = threading.Thread(target=self._run, daemon=True, name=self.name)
        self._thread.start()

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

    def stop(self) -> None:
        """Stops after the round in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)


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
    ``lambda_patterns.StreamOptions``). An SQS mapping reads ``batch_size``, ``report_failures`` and
    ``filters`` only. ``filters`` are the mapping's ``FilterCriteria`` patterns: a record matching none is
    never delivered (SQS deletes it), and a batch left empty is no invocation."""

    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    report_failures: bool = False
    max_retries: int = -1
    bisect: bool = False
    on_failure: str | None = None
    filters: list[dict[str, Any]] = field(default_factory=list)


class SqsMappingPoller(QueuePoller):
    """An SQS event source mapping: batches of up to BatchSize messages; with ReportBatchItemFailures only
    the reported messages return to the queue. A failed message becomes visible again after
    ``retry_visibility`` seconds rather than the queue's visibility timeout, and moto's server moves it to the
    dead-letter queue after the redrive policy's maxReceiveCount, as SQS does."""

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

    def _receive(self) -> list[dict]:
        messages: list[dict] = []
        batch_size = self._options.batch_size
        while len(messages) < batch_size:
            got = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(10, batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                break
            messages.extend(got)
        return messages

    def poll_once(self) -> bool:
        received = self._receive()
        if not received:
            return False
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
            f"SQS {last_part(self._arn)}",
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


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    batches: deque = field(default_factory=deque)
    attempts: int = 0


class StreamMappingPoller(Poller):
    """A DynamoDB-stream or Kinesis event source mapping, one shard after another, in order.

    A batch that fails is retried: from the lowest sequence number reported in ``batchItemFailures``
    (records before it are done), or whole after a function error, split in two first when
    BisectBatchOnFunctionError is on (a split does not count as a retry). After MaximumRetryAttempts
    retries the batch's coordinates go to the on-failure destination and the shard moves on.
    """

    def __init__(
        self,
        kind: str,
        client: Any,
        stream_arn: str,
        worker: FunctionWorker,
        options: PollerSettings,
        deliver: Callable[[str, Any], None],
        role_arn: str = "",
        interval: float = 0.2,
        retry_delay: float = 0.1,
    ) -> None:
        super().__init__(
            f"{kind}:{stream_arn.split('/')[1] if '/' in stream_arn else stream_arn}->{worker.spec.name}",
            interval,
        )
        self.kind = kind
        self._client = client
        self._arn = stream_arn
        self._worker = worker
        self._options = options
        self._deliver = deliver
        self._role_arn = role_arn
        self._retry_delay = retry_delay
        self._shards: dict[str, _Shard] = {}

    def start(self) -> None:
        """Positions an iterator on each shard, at StartingPosition, before polling starts."""
        self._discover()
        super().start()

    def _list_shards(self) -> list[str]:
        if self.kind == "dynamodb":
            shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        else:
            shards = self._client.list_shards(StreamARN=self._arn)["Shards"]
        return [shard["ShardId"] for shard in shards]

    def _discover(self) -> None:
        position = (
            self._options.starting_position
            if self._options.starting_position in ("LATEST", "TRIM_HORIZON")
            else "TRIM_HORIZON"
        )
        for shard_id in self._list_shards():
            if shard_id in self._shards:
                continue
            if self.kind == "dynamodb":
                iterator = self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=position
                )
            else:
                iterator = self._client.get_shard_iterator(
                    StreamARN=self._arn, ShardId=shard_id, ShardIteratorType=position
                )
            self._shards[shard_id] = _Shard(shard_id, iterator["ShardIterator"])

    def _read(self, shard: _Shard) -> list[dict]:
        if shard.iterator is None:
            return []
        if self.kind == "dynamodb":
            response = self._client.get_records(ShardIterator=shard.iterator, Limit=self._options.batch_size)
            records = [dynamodb_record(record, self._arn) for record in response.get("Records", [])]
        else:
            response = self._client.get_records(
                ShardIterator=shard.iterator, Limit=self._options.batch_size, StreamARN=self._arn
            )
            records = [
                kinesis_record(record, shard.shard_id, self._arn, self._role_arn)
                for record in response.get("Records", [])
            ]
        shard.iterator = response.get("NextShardIterator")
        records, dropped = keep_matching(self._options.filters, records, lambda record: record)
        if dropped:
            log.info("%s: %d records matched no filter and were skipped", self.name, len(dropped))
        return records

    def poll_once(self) -> bool:
        if self.kind == "dynamodb":
            self._discover()
        busy = False
        for shard in list(self._shards.values()):
            if not shard.batches:
                records = self._read(shard)
                if records:
                    shard.batches.append(records)
            if shard.batches:
                busy = True
                self._process(shard)
        return busy

    def _process(self, shard: _Shard) -> None:
        batch = shard.batches[0]
        trigger = f"{'DynamoDB stream' if self.kind == 'dynamodb' else 'Kinesis'} {shard.shard_id} ({len(batch)} records)"
        outcome = self._worker.invoke({"Records": batch}, trigger)
        start = 0
        if outcome.ok:
            reported = outcome.batch_item_failures() if self._options.report_failures else None
            if not reported:
                shard.batches.popleft()
                shard.attempts = 0
                return
            numbers = [sequence_number(record) for record in batch]
            if all(item in numbers for item in reported):
                start = min(numbers.index(item) for item in reported)
        remaining = batch[start:]
        if not outcome.ok and self._options.bisect and len(remaining) > 1:
            middle = len(remaining) // 2
            shard.batches.popleft()
            shard.batches.appendleft(remaining[middle:])
            shard.batches.appendleft(remaining[:middle])
            shard.attempts = 0
            log.info("%s: batch of %d split in two after a function error", self.name, len(remaining))
            return
        shard.attempts += 1
        if self._options.max_retries != -1 and shard.attempts > self._options.max_retries:
            shard.batches.popleft()
            record = stream_failure_record(
                kind=self.kind,
                records=remaining,
                shard_id=shard.shard_id,
                stream_arn=self._arn,
                function_arn=self._worker.spec.arn,
                request_id=outcome.request_id,
                attempts=shard.attempts,
                function_error=not outcome.ok,
            )
            shard.attempts = 0
            if self._options.on_failure:
                self._deliver(self._options.on_failure, record)
                log.info(
                    "%s: %d records sent to on-failure destination %s after retries ran out",
                    self.name,
                    len(remaining),
                    self._options.on_failure,
                )
            else:
                log.warning(
                    "%s: %d records dropped after retries ran out: no on-failure destination",
                    self.name,
                    len(remaining),
                )
            return
        shard.batches[0] = remaining
        self._stop.wait(self._retry_delay)


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
