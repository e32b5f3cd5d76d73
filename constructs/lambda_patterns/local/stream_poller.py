"""A DynamoDB-stream or Kinesis event source mapping: a poller thread per shard, shards side by side, and per
shard up to ParallelizationFactor lanes of partition keys, each with one batch in flight.

AWS documents the behaviour emulated here:

- https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html ("Lambda polls each shard", "it processes
  one batch of records at a time from each shard"; "Lambda can process up to 10 batches in each shard
  simultaneously. If you increase the number of concurrent batches per shard, Lambda still ensures
  in-order processing at the partition-key level"; a batching window reads "until it has gathered a full
  batch, the batching window expires, or the batch reaches the payload limit of 6 MB");
- https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (the same for DynamoDB streams, whose order is
  kept per item: its key attributes are the partition key here).

Records are routed to a lane by a hash of their partition key, so the records of one key always take the
same lane, in sequence order; each lane (``stream_lane.py``) retries, bisects and checkpoints alone, so a
failing key holds up only its lane. A tumbling window (``tumbling.py``) is kept per shard, which is why
Lambda refuses it with a ParallelizationFactor above 1 (``wire_mappings.py`` skips such a mapping).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from lambda_patterns.local.events import arrival_time, dynamodb_record, kinesis_record
from lambda_patterns.local.filter_patterns import keep_matching
from lambda_patterns.local.functions import FunctionWorker
from lambda_patterns.local.pollers import PAYLOAD_LIMIT, Poller, PollerSettings, payload_size
from lambda_patterns.local.stream_lane import MappingContext, StreamLane

log = logging.getLogger("lambda_patterns.local")

#: The most records one GetRecords returns on DynamoDB streams (Kinesis allows 10,000).
DYNAMODB_READ_LIMIT = 1000


def partition_key(record: dict[str, Any]) -> str:
    """What orders a stream record: Kinesis's ``partitionKey``, a DynamoDB item's key attributes."""
    if "kinesis" in record:
        return str(record["kinesis"].get("partitionKey", ""))
    return json.dumps(record.get("dynamodb", {}).get("Keys", {}), sort_keys=True)


def lane_of(record: dict[str, Any], lanes: int) -> int:
    """The lane (0 to ``lanes`` - 1) of a record: the same for every record of its partition key."""
    if lanes <= 1:
        return 0
    digest = hashlib.md5(partition_key(record).encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % lanes


class ShardPoller(Poller):
    """Reads one shard from its iterator and hands the records to its lanes; with one lane it delivers
    them itself, with more each lane has a thread of its own. Reads only while the lanes hold less than a
    batch each, and, with a batching window, holds records back until a batch is full or the window
    (counted from the first record held) ends."""

    def __init__(
        self, context: MappingContext, client: Any, shard_id: str, iterator: str | None, role_arn: str
    ) -> None:
        super().__init__(f"{context.name}:{shard_id}", 0.0)
        self.context = context
        self.shard_id = shard_id
        self.iterator = iterator
        self.ended = False
        self._client = client
        self._role_arn = role_arn
        self._held: list[dict[str, Any]] = []
        self._held_since: float | None = None
        self._read_at = 0.0
        self.lanes = [StreamLane(context, shard_id, lane) for lane in range(context.options.parallelization)]
        self._lane_threads: list[threading.Thread] = []
        # The shard's own thread shares the mapping's stop event.
        self._stop = context.stop

    def start(self) -> None:
        """Starts the shard's thread and, with several lanes, one thread per lane."""
        if len(self.lanes) > 1:
            for lane in self.lanes:
                thread = threading.Thread(
                    target=self._run_lane, args=(lane,), daemon=True, name=f"{self.name}#{lane.lane}"
                )
                self._lane_threads.append(thread)
                thread.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        for thread in self._lane_threads:
            thread.join(timeout=60)
        self._lane_threads = []

    def _run_lane(self, lane: StreamLane) -> None:
        while not self._stop.is_set():
            try:
                busy = lane.step(self._read_at, self.ended, self._held_arrival())
            except Exception as error:
                if self._stop.is_set():  # the workers stopped under it: the app is stopping
                    return
                log.warning("%s lane %d: delivery failed: %s", self.name, lane.lane, error)
                busy = False
            if not busy:
                lane.wake.wait(self.interval)
                lane.wake.clear()

    def poll_once(self) -> bool:
        read = self._read()
        released = self._release()
        if self._lane_threads:
            return read
        busy = False
        for lane in self.lanes:
            busy = lane.step(self._read_at, self.ended, self._held_arrival()) or busy
        return busy or read or released

    def _held_arrival(self) -> float | None:
        """When the first record held back by the batching window arrived (a window's final invocation
        waits for it when it belongs to the window)."""
        held = self._held
        return (arrival_time(held[0]) or self.context.clock()) if held else None

    # Reading ---------------------------------------------------------------------------------------------

    def _room(self) -> int:
        """How many more records to read: enough for one batch per lane (what Lambda keeps in flight)."""
        options = self.context.options
        backlog = len(self._held) + sum(lane.backlog for lane in self.lanes)
        return max(0, options.batch_size * len(self.lanes) - backlog)

    def _read(self) -> bool:
        room = self._room()
        if self.iterator is None or room == 0:
            return False
        started = self.context.clock()
        limit = min(room, DYNAMODB_READ_LIMIT if self.context.kind == "dynamodb" else 10000)
        if self.context.kind == "dynamodb":
            response = self._client.get_records(ShardIterator=self.iterator, Limit=limit)
            records = [
                dynamodb_record(record, self.context.stream_arn) for record in response.get("Records", [])
            ]
        else:
            response = self._client.get_records(
                ShardIterator=self.iterator, Limit=limit, StreamARN=self.context.stream_arn
            )
            records = [
                kinesis_record(record, self.shard_id, self.context.stream_arn, self._role_arn)
                for record in response.get("Records", [])
            ]
        self.iterator = response.get("NextShardIterator")
        self.ended = self.iterator is None
        self._read_at = started
        records, dropped = keep_matching(self.context.options.filters, records, lambda record: record)
        if dropped:
            log.info("%s: %d records matched no filter and were skipped", self.name, len(dropped))
        if records:
            if not self._held:
                self._held_since = time.monotonic()
            self._held.extend(records)
        return bool(records)

    def _release(self) -> bool:
        """Hands the held records to their lanes unless the batching window still gathers them."""
        if not self._held:
            return False
        options = self.context.options
        window = options.batching_window
        if window and not self.ended and self._held_since is not None:
            full = len(self._held) >= options.batch_size or (
                sum(payload_size(record) for record in self._held) >= PAYLOAD_LIMIT
            )
            if not full and time.monotonic() - self._held_since < window:
                return False
        by_lane: dict[int, list[dict[str, Any]]] = {}
        for record in self._held:
            by_lane.setdefault(lane_of(record, len(self.lanes)), []).append(record)
        for number, records in by_lane.items():
            self.lanes[number].add(records)
        self._held, self._held_since = [], None
        return True


class StreamMappingPoller(Poller):
    """A DynamoDB-stream or Kinesis event source mapping: one ``ShardPoller`` thread per shard, positioned
    at StartingPosition when the mapping starts; DynamoDB streams are looked at again every ``interval``
    for new shards. Each shard keeps Lambda's semantics (``stream_lane.py``): a failed batch is retried
    from the lowest sequence number reported in ``batchItemFailures`` (records before it are done), or
    whole after a function error, split in two first when BisectBatchOnFunctionError is on (a split does
    not count as a retry); after MaximumRetryAttempts retries, or once its records are older than
    MaximumRecordAgeInSeconds, the batch's coordinates go to the on-failure destination and the lane
    moves on.

    ``clock`` (epoch seconds; ``time.time``) is what record age and tumbling windows are measured by.
    ``poll_once`` without ``start`` reads and delivers every shard once, on the calling thread.
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
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            f"{kind}:{stream_arn.split('/')[1] if '/' in stream_arn else stream_arn}->{worker.spec.name}",
            interval,
        )
        self.kind = kind
        self._client = client
        self._arn = stream_arn
        self._role_arn = role_arn
        self.context = MappingContext(
            name=self.name,
            kind=kind,
            stream_arn=stream_arn,
            worker=worker,
            options=options,
            deliver=deliver,
            clock=clock,
            stop=self._stop,
            retry_delay=retry_delay,
        )
        self.shards: dict[str, ShardPoller] = {}
        self._started = False

    def start(self) -> None:
        """Positions an iterator on each shard, at StartingPosition, and starts their threads."""
        self._started = True
        self._discover()
        super().start()

    def stop(self) -> None:
        super().stop()
        for shard in self.shards.values():
            shard.stop()

    def _list_shards(self) -> list[str]:
        if self.kind == "dynamodb":
            shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        else:
            shards = self._client.list_shards(StreamARN=self._arn)["Shards"]
        return [shard["ShardId"] for shard in shards]

    def _discover(self) -> None:
        position = (
            self.context.options.starting_position
            if self.context.options.starting_position in ("LATEST", "TRIM_HORIZON")
            else "TRIM_HORIZON"
        )
        for shard_id in self._list_shards():
            if shard_id in self.shards:
                continue
            if self.kind == "dynamodb":
                iterator = self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=position
                )
            else:
                iterator = self._client.get_shard_iterator(
                    StreamARN=self._arn, ShardId=shard_id, ShardIteratorType=position
                )
            shard = ShardPoller(
                self.context, self._client, shard_id, iterator["ShardIterator"], self._role_arn
            )
            shard.interval = self.interval
            self.shards[shard_id] = shard
            if self._started:
                shard.start()

    def poll_once(self) -> bool:
        if self.kind == "dynamodb":
            self._discover()
        if self._started:
            return False
        busy = False
        for shard in list(self.shards.values()):
            busy = shard.poll_once() or busy
        return busy
