"""The delivery simulator itself (tests/lambda_delivery.py), checked with tiny FAKE handlers.

These handlers are fakes on purpose: they script a response per batch so that each rule of Lambda's event
source mappings (checkpoints, bisection, retry limits, SQS visibility and redrive) is pinned down exactly.
The real handlers are driven through the simulator in test_exactly_once.py. The fault-injection tests use
real botocore clients against moto's server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import create_pk_table
from lambda_delivery import (
    FaultPlan,
    SimulatedCrash,
    SqsConfig,
    SqsMapping,
    StreamConfig,
    StreamMapping,
    call_fingerprint,
    sequence_number,
)

BASE = 100000000000000000000


def ddb(i: int) -> dict:
    """A (fake) DynamoDB stream record; only the sequence number matters to the mapping."""
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(BASE + i)}}


def kin(i: int, shard: str = "shardId-000000000000") -> dict:
    sequence = str(49590338271490256608559692538361571095921575989136588898 + i)
    return {"kinesis": {"sequenceNumber": sequence, "data": ""}, "eventID": f"{shard}:{sequence}"}


def seq(i: int) -> str:
    return str(BASE + i)


def index_of(record: dict) -> int:
    return int(sequence_number(record)) - BASE


class Script:
    """A fake handler: remembers every batch (as record indices) and answers with ``respond(indices)``."""

    def __init__(self, respond=None) -> None:
        self.batches: list[list[int]] = []
        self.events: list[dict] = []
        self.respond = respond or (lambda indices: {"batchItemFailures": []})
        self.lock = threading.Lock()

    def __call__(self, event, context):
        indices = [index_of(r) for r in event["Records"]]
        with self.lock:
            self.batches.append(indices)
            self.events.append(event)
        return self.respond(indices)


def failing(*bad: int):
    """A response function reporting the given record indices whenever they are in the batch."""
    return lambda indices: {"batchItemFailures": [{"itemIdentifier": seq(i)} for i in indices if i in bad]}


def raising_on(*bad: int):
    def respond(indices):
        if set(indices) & set(bad):
            raise ValueError(f"cannot process {sorted(set(indices) & set(bad))}")
        return {"batchItemFailures": []}

    return respond


# --- streams: checkpoints and partial batch responses ------------------------------------------------------


def test_batches_of_batch_size_in_order_each_checkpointed_after_success():
    handler = Script()
    mapping = StreamMapping(handler, StreamConfig(batch_size=3))
    mapping.put("shard-1", [ddb(i) for i in range(7)])

    run = mapping.run()

    assert handler.batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert not run.exhausted and run.on_failure == []
    assert all(o.acknowledged and o.deliveries == 1 for o in mapping.outcomes())
    assert mapping.shards["shard-1"].checkpoint == 7


def test_partial_response_restarts_at_the_lowest_reported_sequence_number():
    answers = iter([{"batchItemFailures": [{"itemIdentifier": seq(4)}, {"itemIdentifier": seq(2)}]}])
    handler = Script(lambda indices: next(answers, {"batchItemFailures": []}))
    mapping = StreamMapping(handler, StreamConfig(batch_size=6, maximum_retry_attempts=3))
    mapping.put("shard-1", [ddb(i) for i in range(8)])

    mapping.run()

    # Records 0 and 1 are before the checkpoint: done. The retry is the rest of the SAME batch, from 2.
    assert handler.batches == [[0, 1, 2, 3, 4, 5], [2, 3, 4, 5], [6, 7]]
    assert [(i.first, i.end, i.checkpoint_after) for i in mapping.invocations] == [
        (0, 6, 2),
        (2, 6, 6),
        (6, 8, 8),
    ]
    outcomes = {o.index: o for o in mapping.outcomes()}
    assert [outcomes[i].deliveries for i in range(8)] == [1, 1, 2, 2, 2, 2, 1, 1]


def test_partial_response_is_ignored_without_report_batch_item_failures():
    handler = Script(failing(1))
    mapping = StreamMapping(handler, StreamConfig(batch_size=3, report_batch_item_failures=False))
    mapping.put("shard-1", [ddb(i) for i in range(3)])

    run = mapping.run()

    assert handler.batches == [[0, 1, 2]]
    assert run.on_failure == [] and mapping.shards["shard-1"].checkpoint == 3
    # Checkpointed, but the function never claimed record 1: it is dropped, not acknowledged.
    assert [o.acknowledged for o in mapping.outcomes()] == [True, False, True]


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": str(BASE + 99)}]},  # not in the batch
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"identifier": seq(1)}]},  # bad key name
        {"batchItemFailures": [{"itemIdentifier": seq(2)}, {"itemIdentifier": None}]},
        {"batchItemFailures": "all of them"},
        "not an object",
    ],
    ids=[
        "unknown-id",
        "null-id",
        "empty-id",
        "bad-key",
        "one-null-among-valid",
        "not-a-list",
        "not-an-object",
    ],
)
def test_an_unusable_partial_response_is_a_complete_failure_and_the_whole_batch_is_retried(response):
    answers = iter([response])
    handler = Script(lambda indices: next(answers, {"batchItemFailures": []}))
    mapping = StreamMapping(handler, StreamConfig(batch_size=3, maximum_retry_attempts=2))
    mapping.put("shard-1", [ddb(i) for i in range(3)])

    mapping.run()

    assert handler.batches == [[0, 1, 2], [0, 1, 2]]
    assert mapping.invocations[0].action == "invalid-response"


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": None}, {"batchItemFailures": []}])
def test_empty_or_null_responses_are_complete_successes(response):
    handler = Script(lambda indices: response)
    mapping = StreamMapping(handler, StreamConfig(batch_size=2))
    mapping.put("shard-1", [ddb(i) for i in range(4)])

    mapping.run()

    assert handler.batches == [[0, 1], [2, 3]]


# --- streams: retries, the on-failure destination, bisection ------------------------------------------------


def test_function_error_retries_the_batch_then_sends_it_to_on_failure_and_moves_on():
    handler = Script(raising_on(1))
    mapping = StreamMapping(handler, StreamConfig(batch_size=3, maximum_retry_attempts=2))
    mapping.put("shard-1", [ddb(i) for i in range(5)])

    run = mapping.run()

    assert handler.batches == [[0, 1, 2]] * 3 + [[3, 4]]  # the first try and 2 retries
    (discarded,) = run.on_failure
    assert [index_of(r) for r in discarded.records] == [0, 1, 2]
    message = discarded.message()
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == seq(0)
    assert message["DDBStreamBatchInfo"]["endSequenceNumber"] == seq(2)
    assert message["DDBStreamBatchInfo"]["batchSize"] == 3
    assert mapping.shards["shard-1"].checkpoint == 5
    assert not any(o.acknowledged for o in mapping.outcomes() if o.index < 3)


def test_kinesis_on_failure_message_uses_kinesis_batch_info():
    handler = Script(lambda indices: (_ for _ in ()).throw(RuntimeError("always")))
    mapping = StreamMapping(handler, StreamConfig(source="kinesis", batch_size=2, maximum_retry_attempts=0))
    mapping.put("shardId-000000000000", [kin(i) for i in range(2)])

    (discarded,) = mapping.run().on_failure

    assert discarded.message()["KinesisBatchInfo"]["shardId"] == "shardId-000000000000"


def test_a_reported_record_that_keeps_failing_goes_to_on_failure_with_the_rest_of_its_batch():
    handler = Script(failing(1))
    mapping = StreamMapping(handler, StreamConfig(batch_size=4, maximum_retry_attempts=1))
    mapping.put("shard-1", [ddb(i) for i in range(6)])

    run = mapping.run()

    # Try [0..3] reports 1 -> retry from 1 (a retry) reports 1 again -> retries exhausted.
    assert handler.batches == [[0, 1, 2, 3], [1, 2, 3], [4, 5]]
    (discarded,) = run.on_failure
    assert [index_of(r) for r in discarded.records] == [1, 2, 3]
    assert not discarded.function_error
    acknowledged = {o.index for o in mapping.outcomes() if o.acknowledged}
    assert acknowledged == {0, 2, 3, 4, 5}  # 2 and 3 were not reported: the function claimed them


def test_bisection_splits_the_failed_batch_first_half_first_and_isolates_the_bad_record():
    handler = Script(raising_on(5))
    config = StreamConfig(batch_size=8, bisect_batch_on_function_error=True, maximum_retry_attempts=0)
    mapping = StreamMapping(handler, config)
    mapping.put("shard-1", [ddb(i) for i in range(8)])

    run = mapping.run()

    assert handler.batches == [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [4, 5],
        [4],
        [5],
        [6, 7],
    ]
    assert [[index_of(r) for r in d.records] for d in run.on_failure] == [[5]]
    assert {o.index for o in mapping.outcomes() if o.acknowledged} == {0, 1, 2, 3, 4, 6, 7}


def test_splitting_a_batch_does_not_count_towards_the_retry_quota():
    handler = Script(raising_on(0))
    config = StreamConfig(batch_size=4, bisect_batch_on_function_error=True, maximum_retry_attempts=2)
    mapping = StreamMapping(handler, config)
    mapping.put("shard-1", [ddb(i) for i in range(4)])

    mapping.run()

    # Two splits, then record 0 alone: its first try and 2 retries.
    assert handler.batches == [[0, 1, 2, 3], [0, 1], [0], [0], [0], [1], [2, 3]]


def test_bisection_does_not_apply_to_partial_batch_responses():
    answers = iter([{"batchItemFailures": [{"itemIdentifier": seq(2)}]}])
    handler = Script(lambda indices: next(answers, {"batchItemFailures": []}))
    config = StreamConfig(batch_size=4, bisect_batch_on_function_error=True, maximum_retry_attempts=1)
    mapping = StreamMapping(handler, config)
    mapping.put("shard-1", [ddb(i) for i in range(4)])

    mapping.run()

    assert handler.batches == [[0, 1, 2, 3], [2, 3]]


def test_a_response_that_does_not_serialize_to_json_is_a_function_error():
    answers = iter([{"batchItemFailures": [], "total": Decimal("1.5")}])
    handler = Script(lambda indices: next(answers, None))
    mapping = StreamMapping(handler, StreamConfig(batch_size=2, maximum_retry_attempts=1))
    mapping.put("shard-1", [ddb(i) for i in range(2)])

    mapping.run()

    assert handler.batches == [[0, 1], [0, 1]]
    assert "TypeError" in mapping.invocations[0].error


def test_records_put_after_a_run_are_read_by_the_next_run_from_the_checkpoint():
    handler = Script()
    mapping = StreamMapping(handler, StreamConfig(batch_size=10))
    mapping.put("shard-1", [ddb(0), ddb(1)])
    mapping.run()
    mapping.put("shard-1", [ddb(2), ddb(3), ddb(4)])

    mapping.run()

    assert handler.batches == [[0, 1], [2, 3, 4]]


def test_the_same_sequence_number_twice_checkpoints_at_its_first_position():
    answers = iter([{"batchItemFailures": [{"itemIdentifier": seq(1)}]}])
    handler = Script(lambda indices: next(answers, {"batchItemFailures": []}))
    mapping = StreamMapping(handler, StreamConfig(batch_size=4, maximum_retry_attempts=1))
    mapping.put("shard-1", [ddb(0), ddb(1), ddb(1), ddb(2)])

    mapping.run()

    assert handler.batches == [[0, 1, 1, 2], [1, 1, 2]]


# --- streams: concurrency, tumbling windows, bounds ----------------------------------------------------------


def test_shards_are_processed_concurrently_with_one_invocation_in_flight_per_shard():
    barrier = threading.Barrier(3, timeout=10)
    in_flight: dict[str, int] = {}
    worst: dict[str, int] = {}
    lock = threading.Lock()

    def handler(event, context):
        shard = event["shardId"]
        with lock:
            in_flight[shard] = in_flight.get(shard, 0) + 1
            worst[shard] = max(worst.get(shard, 0), in_flight[shard])
        if len(event["Records"]) and index_of(event["Records"][0]) % 100 == 0:
            barrier.wait()  # passes only when the three shards' first batches are in flight together
        time.sleep(0.002)
        with lock:
            in_flight[shard] -= 1
        return {"batchItemFailures": [], "state": {}}

    mapping = StreamMapping(handler, StreamConfig(batch_size=2, tumbling_window=True))
    for s in range(3):
        mapping.put(f"shard-{s}", [ddb(s * 100 + i) for i in range(6)])

    run = mapping.run()

    assert not run.exhausted
    assert worst == {"shard-0": 1, "shard-1": 1, "shard-2": 1}
    assert all(o.acknowledged for o in mapping.outcomes())


def test_tumbling_window_events_carry_the_shard_the_window_and_the_previous_state():
    def respond(indices):
        return {"batchItemFailures": [], "state": {"seen": len(indices)}}

    handler = Script(respond)
    config = StreamConfig(batch_size=2, tumbling_window=True, final_window_invoke=True)
    mapping = StreamMapping(handler, config)
    mapping.put("shard-7", [ddb(i) for i in range(3)])

    mapping.run()

    first, second, final = handler.events
    assert first["shardId"] == "shard-7" and "window" in first and first["state"] == {}
    assert first["isFinalInvokeForWindow"] is False
    assert second["state"] == {"seen": 2}
    assert (
        final["Records"] == [] and final["isFinalInvokeForWindow"] is True and final["state"] == {"seen": 1}
    )


def test_with_a_tumbling_window_a_response_without_state_is_a_failed_invocation():
    answers = iter([{"batchItemFailures": []}])
    handler = Script(lambda indices: next(answers, {"batchItemFailures": [], "state": {}}))
    mapping = StreamMapping(
        handler, StreamConfig(batch_size=2, tumbling_window=True, maximum_retry_attempts=1)
    )
    mapping.put("shard-1", [ddb(0), ddb(1)])

    mapping.run()

    assert handler.batches == [[0, 1], [0, 1]]


def test_a_shard_that_never_succeeds_is_bounded_by_the_invocation_budget():
    handler = Script(raising_on(0))
    mapping = StreamMapping(handler, StreamConfig(batch_size=2, max_invocations=25))
    mapping.put("shard-1", [ddb(0), ddb(1)])

    run = mapping.run()

    assert run.exhausted and len(handler.batches) == 25
    assert run.stuck == {"shard-1": (0, 2)}


# --- fault injection (real botocore clients, moto's server) ---------------------------------------------------


@pytest.fixture
def table(aws):
    create_pk_table("faults", sort_key=False)
    return "faults"


def writer(table: str, tolerate: bool = True):
    """A fake handler module: a module-level client, and a handler putting one item per record."""
    module = SimpleNamespace(dynamodb=boto3.client("dynamodb"), errors=[])

    def handler(event, context):
        for record in event["Records"]:
            try:
                module.dynamodb.put_item(TableName=table, Item={"pk": {"S": sequence_number(record)}})
            except ClientError as error:
                if not tolerate:
                    raise
                module.errors.append(error.response["Error"]["Code"])
        return {"batchItemFailures": []}

    module.handler = handler
    return module


def stored(table: str) -> set[str]:
    return {i["pk"]["S"] for i in boto3.client("dynamodb").scan(TableName=table)["Items"]}


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("throttle", {"ProvisionedThroughputExceededException", "ThrottlingException"}),
        ("server_error", {"InternalServerError"}),
    ],
)
def test_injected_errors_reach_the_handler_as_client_errors_without_reaching_the_service(table, kind, codes):
    module = writer(table)
    mapping = StreamMapping(module, StreamConfig(batch_size=3), FaultPlan(rate=1.0, kinds=(kind,)))
    mapping.put("shard-1", [ddb(i) for i in range(3)])

    mapping.run()

    assert len(module.errors) == 3 and set(module.errors) <= codes
    assert stored(table) == set()
    assert [f.kind for f in mapping.faults_injected()] == [kind] * 3


def test_a_crash_after_a_call_keeps_the_write_fails_the_invocation_and_stops_later_calls(table):
    module = writer(table, tolerate=False)
    plan = FaultPlan(rate=1.0, kinds=("crash",), until_invocation=1)
    mapping = StreamMapping(module, StreamConfig(batch_size=3, maximum_retry_attempts=1), plan)
    mapping.put("shard-1", [ddb(i) for i in range(3)])

    mapping.run()

    first, retry = mapping.invocations
    assert first.error.startswith("SimulatedCrash") and [f.kind for f in first.faults] == ["crash"]
    assert retry.error is None and retry.action == "success"
    assert stored(table) == {seq(0), seq(1), seq(2)}  # the first write landed before the crash


def test_after_a_crash_no_further_call_of_the_invocation_reaches_the_service(table):
    client = boto3.client("dynamodb")
    calls = []
    client.meta.events.register("before-send", lambda **kwargs: calls.append(1))
    module = SimpleNamespace(dynamodb=client)

    def handler(event, context):
        with contextlib.suppress(SimulatedCrash):  # a handler cannot survive its own crash; this one tries
            client.put_item(TableName=table, Item={"pk": {"S": "a"}})
        client.put_item(TableName=table, Item={"pk": {"S": "b"}})

    module.handler = handler
    plan = FaultPlan(rate=1.0, kinds=("crash",), operations=frozenset({"PutItem"}), until_invocation=1)
    mapping = StreamMapping(module, StreamConfig(batch_size=1, maximum_retry_attempts=0), plan)
    mapping.put("shard-1", [ddb(0)])

    mapping.run()

    assert stored(table) == {"a"} and len(calls) == 1
    assert mapping.invocations[0].error.startswith("SimulatedCrash")


def test_calls_outside_an_invocation_are_never_faulted(table):
    module = writer(table)
    mapping = StreamMapping(module, StreamConfig(batch_size=1), FaultPlan(rate=1.0, kinds=("throttle",)))
    mapping.put("shard-1", [ddb(0)])
    mapping.run()

    module.dynamodb.put_item(TableName=table, Item={"pk": {"S": "outside"}})

    assert "outside" in stored(table)


def test_the_fault_schedule_is_a_pure_function_of_the_seed_and_the_call():
    plan = FaultPlan(seed=7, rate=0.3)
    calls = [("shard-1", n, "dynamodb", "UpdateItem", f"fp{k}", 0) for n in range(20) for k in range(10)]

    first = [plan.decide(*call) for call in calls]

    assert first == [plan.decide(*call) for call in calls]
    assert first != [FaultPlan(seed=8, rate=0.3).decide(*call) for call in calls]
    assert 0.2 < sum(kind is not None for kind in first) / len(calls) < 0.4
    assert {kind for kind in first if kind} == {"throttle", "server_error", "crash"}
    assert all(FaultPlan(seed=7, rate=0.3, until_invocation=5).decide(*c) is None for c in calls if c[1] >= 5)


def test_call_fingerprints_ignore_timestamps_in_items_but_not_their_keys():
    a = {"TableName": "t", "Item": {"pk": {"S": "1"}, "recorded_at": {"S": "12:00"}}}
    b = {"TableName": "t", "Item": {"pk": {"S": "1"}, "recorded_at": {"S": "12:01"}}}
    c = {"TableName": "t", "Item": {"pk": {"S": "2"}, "recorded_at": {"S": "12:00"}}}

    assert call_fingerprint(a) == call_fingerprint(b) != call_fingerprint(c)


def test_fault_injection_needs_one_environment_per_concurrent_shard(table):
    mapping = StreamMapping(writer(table), StreamConfig(), FaultPlan(rate=0.5))
    mapping.put("shard-1", [ddb(0)])
    mapping.put("shard-2", [ddb(1)])

    with pytest.raises(ValueError, match="one environment"):
        mapping.run()


# --- SQS ----------------------------------------------------------------------------------------------------


class Receiver:
    """A fake SQS handler: records deliveries as (round-independent) message id lists and answers per rule."""

    def __init__(self, respond=None, gate: threading.Barrier | None = None) -> None:
        self.deliveries: list[list[tuple[str, int]]] = []
        self.respond = respond or (lambda ids: {"batchItemFailures": []})
        self.gate = gate
        self.lock = threading.Lock()

    def __call__(self, event, context):
        seen = [(r["messageId"], int(r["attributes"]["ApproximateReceiveCount"])) for r in event["Records"]]
        with self.lock:
            self.deliveries.append(seen)
        if self.gate is not None:
            self.gate.wait()
        return self.respond([i for i, _ in seen])


def sqs_reporting(*bad: str):
    return lambda ids: {"batchItemFailures": [{"itemIdentifier": i} for i in ids if i in bad]}


def times_delivered(receiver: Receiver) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for batch in receiver.deliveries:
        for message_id, count in batch:
            counts.setdefault(message_id, []).append(count)
    return counts


def test_sqs_success_deletes_and_a_reported_message_alone_returns_after_its_visibility_timeout():
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "m2"}]}])
    receiver = Receiver(lambda ids: next(answers, {"batchItemFailures": []}))
    mapping = SqsMapping(receiver, SqsConfig(batch_size=3, concurrency=1, visibility_timeout=3))
    for name in ("m1", "m2", "m3"):
        mapping.send(f"body of {name}", message_id=name)

    run = mapping.run()

    assert receiver.deliveries == [[("m1", 1), ("m2", 1), ("m3", 1)], [("m2", 2)]]
    first, second = run.invocations
    assert second.round - first.round == 3  # invisible for the whole visibility timeout
    assert {m.state for m in mapping.messages.values()} == {"deleted"}
    assert mapping.acknowledged == {"m1": 1, "m2": 1, "m3": 1}


def test_sqs_function_error_returns_the_whole_batch():
    answers = iter(["raise"])

    def respond(ids):
        if next(answers, None) == "raise":
            raise RuntimeError("boom")
        return {"batchItemFailures": []}

    receiver = Receiver(respond)
    mapping = SqsMapping(receiver, SqsConfig(batch_size=2, concurrency=1))
    mapping.send("a", message_id="m1")
    mapping.send("b", message_id="m2")

    mapping.run()

    assert receiver.deliveries == [[("m1", 1), ("m2", 1)], [("m1", 2), ("m2", 2)]]


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "no-such-message"}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
    ],
    ids=["unknown-id", "null-id", "empty-id"],
)
def test_sqs_unusable_partial_response_returns_the_whole_batch(response):
    answers = iter([response])
    receiver = Receiver(lambda ids: next(answers, {"batchItemFailures": []}))
    mapping = SqsMapping(receiver, SqsConfig(batch_size=2, concurrency=1))
    mapping.send("a", message_id="m1")
    mapping.send("b", message_id="m2")

    mapping.run()

    assert times_delivered(receiver) == {"m1": [1, 2], "m2": [1, 2]}


def test_sqs_without_report_batch_item_failures_a_reported_message_is_deleted_anyway():
    receiver = Receiver(sqs_reporting("m1"))
    mapping = SqsMapping(receiver, SqsConfig(report_batch_item_failures=False))
    mapping.send("a", message_id="m1")

    mapping.run()

    assert receiver.deliveries == [[("m1", 1)]] and mapping.messages["m1"].state == "deleted"
    assert mapping.acknowledged["m1"] == 0  # deleted by Lambda, yet the function never claimed it


def test_sqs_message_moves_to_the_dead_letter_queue_after_max_receive_count():
    receiver = Receiver(sqs_reporting("bad"))
    mapping = SqsMapping(receiver, SqsConfig(batch_size=10, concurrency=2, max_receive_count=3))
    for name in ("ok-1", "bad", "ok-2"):
        mapping.send(name, message_id=name)

    run = mapping.run()

    assert times_delivered(receiver) == {"ok-1": [1], "bad": [1, 2, 3], "ok-2": [1]}
    assert [m.message_id for m in run.dead_letters] == ["bad"]
    assert run.dead_letters[0].receive_count == 3


def test_sqs_without_a_redrive_policy_a_failing_message_is_bounded_by_the_budget():
    receiver = Receiver(sqs_reporting("bad"))
    mapping = SqsMapping(receiver, SqsConfig(max_receive_count=None, max_invocations=7, visibility_timeout=1))
    mapping.send("x", message_id="bad")

    run = mapping.run()

    assert run.exhausted and len(receiver.deliveries) == 7


def test_sqs_delivers_the_same_message_to_two_concurrent_invocations_at_once():
    gate = threading.Barrier(2, timeout=10)  # both invocations must be in flight together to pass
    receiver = Receiver(gate=gate)
    mapping = SqsMapping(receiver, SqsConfig(batch_size=10, concurrency=2, duplicate_rate=1.0))
    mapping.send("x", message_id="m1")

    run = mapping.run()

    assert sorted(receiver.deliveries) == [[("m1", 1)], [("m1", 2)]]
    first, second = run.invocations
    assert first.round == second.round and first.slot != second.slot
    assert first.receipt_handles != second.receipt_handles
    assert run.duplicate_deliveries == 1
    assert mapping.acknowledged["m1"] == 2


def test_sqs_a_lost_delete_brings_a_processed_message_back():
    receiver = Receiver()
    mapping = SqsMapping(receiver, SqsConfig(lost_delete_rate=1.0, max_receive_count=2, concurrency=1))
    mapping.send("x", message_id="m1")

    run = mapping.run()

    assert receiver.deliveries == [[("m1", 1)], [("m1", 2)]]
    assert run.lost_deletes == 2 and mapping.acknowledged["m1"] == 2
    assert [m.message_id for m in run.dead_letters] == ["m1"]  # processed twice, yet dead-lettered


def test_sqs_handler_own_calls_are_faulted_per_invocation(table):
    module = writer(table)

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            try:
                module.dynamodb.put_item(TableName=table, Item={"pk": {"S": record["messageId"]}})
            except ClientError:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    module.handler = handler
    plan = FaultPlan(rate=1.0, kinds=("throttle",), until_invocation=1)
    mapping = SqsMapping(module, SqsConfig(concurrency=1), plan)
    mapping.send("x", message_id="m1")

    run = mapping.run()

    assert [inv.verdict for inv in run.invocations] == ["partial", "success"]
    assert mapping.faulted_message_ids() == {"m1"}
    assert stored(table) == {"m1"}
