"""Tumbling windows on the local runner's stream mappings, as Lambda runs them (``local/tumbling.py``): the
state handed from one invocation of a window to the next, the final invocation of each window, a response
without a state, a state over 1 MB.

The shard is a stand-in stream whose records carry the arrival times the test gives, and the mapping's
clock is the test's, so that which window a record falls in, and when a window ends, are exact.
"""

from __future__ import annotations

from mapping_doubles import RecordingWorker

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/Readings"
SHARD = "shardId-000000000000"


class _Shard:
    """A one-shard Kinesis client: ``put`` appends a record arriving at a given time; GetRecords returns
    the records not yet read."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self._read = 0

    def put(self, value: int, arrival: float, key: str = "p") -> None:
        self.records.append(
            {
                "SequenceNumber": str(1000 + len(self.records)),
                "PartitionKey": key,
                "Data": str(value).encode(),
                "ApproximateArrivalTimestamp": arrival,
            }
        )

    def list_shards(self, **_: object) -> dict:
        return {"Shards": [{"ShardId": SHARD}]}

    def get_shard_iterator(self, **_: object) -> dict:
        return {"ShardIterator": "it"}

    def get_records(self, Limit: int, **_: object) -> dict:  # noqa: N803 (boto3's argument name)
        records = self.records[self._read : self._read + Limit]
        self._read += len(records)
        return {"Records": records, "NextShardIterator": "it"}


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _summing(event: dict) -> dict:
    """A handler that sums the records' values into the window's state."""
    import base64

    total = event["state"].get("sum", 0)
    total += sum(int(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"])
    return {"state": {"sum": total}, "batchItemFailures": []}


def _mapping(shard: _Shard, worker, clock: _Clock, **settings):
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.stream_poller import StreamMappingPoller

    poller = StreamMappingPoller(
        "kinesis",
        shard,
        ARN,
        worker,
        PollerSettings(tumbling_window=1, **settings),
        lambda *_: None,
        retry_delay=0,
        clock=clock,
    )
    poller._discover()
    return poller


def _drain(poller, rounds: int = 20) -> None:
    for _ in range(rounds):
        poller.poll_once()


def _summary(event: dict) -> tuple:
    """(window start, values, state, final, terminated early) of a tumbling-window event."""
    import base64

    values = [int(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"]]
    return (
        event["window"]["start"],
        values,
        event["state"],
        event["isFinalInvokeForWindow"],
        event["isWindowTerminatedEarly"],
    )


T0 = 1_796_000_000.0  # a whole second: 2026-11-30T00:53:20Z


def test_each_invocation_of_a_window_gets_the_state_the_previous_one_returned_and_the_final_one_the_total():
    # Given records 1, 2, 3 in one window and 10 in the next, read two at a time.
    shard, clock, worker = _Shard(), _Clock(T0 + 0.5), RecordingWorker(_summing)
    for value, offset in ((1, 0.1), (2, 0.2), (3, 0.3), (10, 1.5)):
        shard.put(value, T0 + offset)
    poller = _mapping(shard, worker, clock, batch_size=2)

    # When the mapping delivers them, and time passes the end of the second window.
    _drain(poller)
    clock.now = T0 + 2.2
    _drain(poller)

    # Then the state runs through each window's invocations and the final invocation (no records) of each
    # window gets the window's total; a new window starts from an empty state.
    assert [_summary(event) for event in worker.events] == [
        ("2026-11-30T00:53:20Z", [1, 2], {}, False, False),
        ("2026-11-30T00:53:20Z", [3], {"sum": 3}, False, False),
        ("2026-11-30T00:53:20Z", [], {"sum": 6}, True, False),
        ("2026-11-30T00:53:21Z", [10], {}, False, False),
        ("2026-11-30T00:53:21Z", [], {"sum": 10}, True, False),
    ]
    first = worker.events[0]
    assert first["window"] == {"start": "2026-11-30T00:53:20Z", "end": "2026-11-30T00:53:21Z"}
    assert (first["shardId"], first["eventSourceARN"]) == (SHARD, ARN)


def test_the_final_invocation_waits_until_the_window_has_ended():
    shard, clock, worker = _Shard(), _Clock(T0 + 0.5), RecordingWorker(_summing)
    shard.put(4, T0 + 0.2)
    poller = _mapping(shard, worker, clock)

    _drain(poller)
    before_the_end = [_summary(event) for event in worker.events]
    clock.now = T0 + 1.0
    _drain(poller)

    assert before_the_end == [("2026-11-30T00:53:20Z", [4], {}, False, False)]
    assert _summary(worker.events[-1]) == ("2026-11-30T00:53:20Z", [], {"sum": 4}, True, False)
    assert len(worker.events) == 2


def test_a_response_without_a_state_is_a_failed_invocation_and_the_batch_is_retried():
    shard, clock = _Shard(), _Clock(T0 + 0.5)
    shard.put(5, T0 + 0.1)
    answers = [{"batchItemFailures": []}]  # the first response lacks the state

    def respond(event: dict):
        return answers.pop() if answers else _summing(event)

    worker = RecordingWorker(respond)
    poller = _mapping(shard, worker, clock)

    _drain(poller)
    clock.now = T0 + 1.5
    _drain(poller)

    assert [_summary(event) for event in worker.events] == [
        ("2026-11-30T00:53:20Z", [5], {}, False, False),
        ("2026-11-30T00:53:20Z", [5], {}, False, False),
        ("2026-11-30T00:53:20Z", [], {"sum": 5}, True, False),
    ]


def test_a_state_over_1_mb_ends_the_window_early_and_the_window_goes_on_with_a_fresh_state():
    shard, clock = _Shard(), _Clock(T0 + 0.5)
    shard.put(1, T0 + 0.1)
    shard.put(2, T0 + 0.2)

    def respond(event: dict):
        if event["Records"] and not event["state"]:
            return {"state": {"blob": "x" * (1024 * 1024 + 1)}}
        return {"state": {"seen": len(event["Records"])}}

    worker = RecordingWorker(respond)
    poller = _mapping(shard, worker, clock, batch_size=1)

    _drain(poller)

    (first, early, second, *_) = worker.events
    assert _summary(first)[:2] == ("2026-11-30T00:53:20Z", [1])
    assert early["Records"] == [] and early["isFinalInvokeForWindow"] and early["isWindowTerminatedEarly"]
    assert len(early["state"]["blob"]) == 1024 * 1024 + 1
    assert _summary(second) == ("2026-11-30T00:53:20Z", [2], {}, False, False)


def test_a_failed_final_invocation_is_retried_before_the_next_window_is_delivered():
    shard, clock = _Shard(), _Clock(T0 + 0.5)
    shard.put(1, T0 + 0.1)
    shard.put(2, T0 + 1.1)
    failures = [RuntimeError("final failed")]

    def respond(event: dict):
        if event["isFinalInvokeForWindow"] and failures:
            raise failures.pop()
        return _summing(event)

    worker = RecordingWorker(respond)
    poller = _mapping(shard, worker, clock)

    _drain(poller)

    assert [_summary(event) for event in worker.events][:4] == [
        ("2026-11-30T00:53:20Z", [1], {}, False, False),
        ("2026-11-30T00:53:20Z", [], {"sum": 1}, True, False),
        ("2026-11-30T00:53:20Z", [], {"sum": 1}, True, False),
        ("2026-11-30T00:53:21Z", [2], {}, False, False),
    ]


def test_the_final_invocation_waits_for_records_of_the_window_held_by_a_batching_window():
    import time

    # Given a mapping with a tumbling window and a batching window, which delivered a first record.
    shard, clock, worker = _Shard(), _Clock(T0 + 0.5), RecordingWorker(_summing)
    shard.put(1, T0 + 0.1)
    poller = _mapping(shard, worker, clock, batching_window=0.3)
    deadline = time.monotonic() + 5
    while not worker.events and time.monotonic() < deadline:
        poller.poll_once()
        time.sleep(0.05)

    # When a second record of the window is read and held by the batching window as the window ends,
    shard.put(2, T0 + 0.2)
    poller.poll_once()
    clock.now = T0 + 1.5
    poller.poll_once()
    # and then the batching window lets it go.
    time.sleep(0.4)
    _drain(poller)

    # Then the final invocation came after it, with the sum of both.
    assert [_summary(event) for event in worker.events] == [
        ("2026-11-30T00:53:20Z", [1], {}, False, False),
        ("2026-11-30T00:53:20Z", [2], {"sum": 1}, False, False),
        ("2026-11-30T00:53:20Z", [], {"sum": 3}, True, False),
    ]
