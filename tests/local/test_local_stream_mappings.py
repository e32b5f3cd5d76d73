"""The local runner's stream and queue mappings against moto's server, as Lambda's pollers behave: shards side
by side, ParallelizationFactor lanes by partition key, MaximumRecordAgeInSeconds, batching windows, and SQS
batches spread over the function's concurrency.

The pollers are driven here with a recording stand-in for the function (``mapping_doubles``): it is what
observes what a poller hands over, and how many invocations run at once, whatever the real worker's
concurrency is. The streams and queues are moto's.
"""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from mapping_doubles import RecordingWorker, wait_until


def _kinesis_stream(name: str, shards: int = 1) -> tuple[object, str]:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return kinesis, arn


def _queue(name: str, **attributes: str) -> tuple[object, str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def _stream_poller(kinesis, arn, worker, clock=time.time, deliver=None, **settings):
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.stream_poller import StreamMappingPoller

    delivered: list[tuple[str, dict]] = []
    poller = StreamMappingPoller(
        "kinesis",
        kinesis,
        arn,
        worker,
        PollerSettings(**settings),
        deliver or (lambda destination, document: delivered.append((destination, document))),
        interval=0.05,
        retry_delay=0.01,
        clock=clock,
    )
    return poller, delivered


def _records(event: dict) -> list[tuple[str, str]]:
    """(partition key, data) of each record of a Kinesis event."""
    import base64

    return [
        (record["kinesis"]["partitionKey"], base64.b64decode(record["kinesis"]["data"]).decode())
        for record in event["Records"]
    ]


def test_every_shard_has_a_batch_in_flight_at_the_same_time(aws):
    # Given a stream of three shards, each with records.
    kinesis, arn = _kinesis_stream("three-shards", shards=3)
    for number in range(12):
        kinesis.put_record(StreamName="three-shards", Data=str(number).encode(), PartitionKey=f"key-{number}")
    shard_ids = [shard["ShardId"] for shard in kinesis.list_shards(StreamName="three-shards")["Shards"]]
    # and a function whose first invocation of each shard waits for the other shards' first invocations
    meeting = threading.Barrier(len(shard_ids), timeout=20)
    met: set[str] = set()
    lock = threading.Lock()

    def respond(event: dict):
        shard = event["Records"][0]["eventID"].split(":")[0]
        with lock:
            first = shard not in met
            met.add(shard)
        if first:
            meeting.wait()

    worker = RecordingWorker(respond)
    poller, _ = _stream_poller(kinesis, arn, worker, batch_size=100)

    # When the mapping runs.
    poller.start()
    try:
        wait_until(lambda: sum(len(event["Records"]) for event in worker.events) >= 12)
    finally:
        poller.stop()

    # Then the shards were delivered side by side: every first invocation met the others.
    assert not meeting.broken
    assert met == set(shard_ids)
    assert worker.most_in_flight == len(shard_ids)


def test_with_a_parallelization_factor_each_key_keeps_its_order_and_lanes_run_together(aws):
    from lambda_patterns.local.stream_poller import lane_of

    # Given one shard holding five records of each of eight partition keys, interleaved.
    kinesis, arn = _kinesis_stream("parallel")
    keys = [f"device-{number}" for number in range(8)]
    for round_ in range(5):
        for key in keys:
            kinesis.put_record(StreamName="parallel", Data=f"{key}/{round_}".encode(), PartitionKey=key)
    lanes = {lane_of({"kinesis": {"partitionKey": key}}, 3) for key in keys}
    assert len(lanes) > 1, "the keys must fall in several lanes for this test to say anything"
    # and a function whose first invocation of each lane waits for the other lanes' first invocations,
    # and which fails device-0's second record once (a partial batch response).
    meeting = threading.Barrier(len(lanes), timeout=20)
    met: set[int] = set()
    failed_at: dict[int, int] = {}  # id(event) -> index of the record reported failed
    lock = threading.Lock()

    def respond(event: dict):
        lane = lane_of(event["Records"][0], 3)
        with lock:
            first = lane not in met
            met.add(lane)
        if first:
            meeting.wait()
        datas = [data for _, data in _records(event)]
        if "device-0/1" in datas and not failed_at:
            index = datas.index("device-0/1")
            failed_at[id(event)] = index
            return {
                "batchItemFailures": [
                    {"itemIdentifier": event["Records"][index]["kinesis"]["sequenceNumber"]}
                ]
            }
        return None

    worker = RecordingWorker(respond)
    poller, _ = _stream_poller(kinesis, arn, worker, batch_size=4, parallelization=3, report_failures=True)
    everything = {f"{key}/{round_}" for key in keys for round_ in range(5)}

    def acknowledged() -> dict[str, list[int]]:
        """Per key, the rounds in the order the function first acknowledged them."""
        seen: dict[str, list[int]] = {key: [] for key in keys}
        for event in list(worker.events):
            records = _records(event)
            for key, data in records[: failed_at.get(id(event), len(records))]:
                if int(data.split("/")[1]) not in seen[key]:
                    seen[key].append(int(data.split("/")[1]))
        return seen

    # When the mapping runs with ParallelizationFactor 3.
    poller.start()
    try:
        wait_until(lambda: sum(map(len, acknowledged().values())) == len(everything))
    finally:
        poller.stop()

    # Then batches of different lanes were in flight together,
    assert not meeting.broken
    assert worker.most_in_flight >= 2
    # each batch holds the records of one lane,
    for event in worker.events:
        assert len({lane_of(record, 3) for record in event["Records"]}) == 1
    # and, per key, records were acknowledged in sequence order, the failed one redelivered first.
    assert failed_at
    assert acknowledged() == {key: [0, 1, 2, 3, 4] for key in keys}


def test_records_older_than_the_maximum_age_go_to_the_on_failure_queue_never_to_the_function(aws):
    # Given three records on a stream, a clock two minutes ahead of them, and an on-failure queue
    # (delivered to as the runner delivers to an SQS destination).
    kinesis, arn = _kinesis_stream("ageing")
    sqs, failures, failures_arn = _queue("failures")
    sequences = [
        kinesis.put_record(StreamName="ageing", Data=b"old", PartitionKey="p")["SequenceNumber"]
        for _ in range(3)
    ]
    ahead = [120.0]
    worker = RecordingWorker()

    def deliver(destination: str, document: dict) -> None:
        assert destination == failures_arn
        sqs.send_message(QueueUrl=failures, MessageBody=json.dumps(document))

    poller, _ = _stream_poller(
        kinesis,
        arn,
        worker,
        clock=lambda: time.time() + ahead[0],
        deliver=deliver,
        max_record_age=60,
        on_failure=failures_arn,
    )
    poller._discover()

    # When the mapping with MaximumRecordAgeInSeconds 60 reads them, and later a fresh record.
    poller.poll_once()
    ahead[0] = 0.0
    kinesis.put_record(StreamName="ageing", Data=b"fresh", PartitionKey="p")
    poller.poll_once()

    # Then the function only ever got the fresh record,
    assert [data for event in worker.events for _, data in _records(event)] == ["fresh"]
    # and the old ones were described on the on-failure queue as too old, never invoked.
    (message,) = sqs.receive_message(QueueUrl=failures, MaxNumberOfMessages=10)["Messages"]
    document = json.loads(message["Body"])
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in document
    info = document["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        sequences[0],
        sequences[-1],
        3,
    )
    assert info["streamArn"] == arn


def test_a_batch_retried_past_the_maximum_age_is_discarded_as_too_old(aws):
    # Given a record the function always fails on, and a clock that moves past its maximum age.
    kinesis, arn = _kinesis_stream("retried")
    kinesis.put_record(StreamName="retried", Data=b"poison", PartitionKey="p")
    ahead = [0.0]

    def respond(event: dict):
        ahead[0] += 45.0
        raise RuntimeError("cannot process")

    worker = RecordingWorker(respond)
    poller, delivered = _stream_poller(
        kinesis, arn, worker, clock=lambda: time.time() + ahead[0], max_record_age=60, on_failure="dest"
    )
    poller._discover()

    # When the mapping (unbounded retries) polls until the record is discarded.
    for _ in range(5):
        poller.poll_once()

    # Then it was invoked twice (its age was 45 s, then 90 s), and discarded as too old after an error.
    assert len(worker.events) == 2
    ((_, document),) = delivered
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 2
    assert document["responseContext"]["functionError"] == "Unhandled"


def test_a_batching_window_gathers_records_put_apart_into_one_invocation(aws):
    # Given a mapping with a 2-second batching window and BatchSize 100.
    kinesis, arn = _kinesis_stream("gathered")
    worker = RecordingWorker()
    poller, _ = _stream_poller(kinesis, arn, worker, batch_size=100, batching_window=2)
    poller.start()
    try:
        # When five records are put 0.35 s apart.
        for number in range(5):
            kinesis.put_record(StreamName="gathered", Data=str(number).encode(), PartitionKey=str(number))
            time.sleep(0.35)
        wait_until(lambda: worker.events)
        time.sleep(0.5)
    finally:
        poller.stop()

    # Then they reached the function in one invocation.
    assert [[data for _, data in _records(event)] for event in worker.events] == [["0", "1", "2", "3", "4"]]


def test_without_a_batching_window_records_put_apart_arrive_as_they_come(aws):
    kinesis, arn = _kinesis_stream("ungathered")
    worker = RecordingWorker()
    poller, _ = _stream_poller(kinesis, arn, worker, batch_size=100)
    poller.start()
    try:
        for number in range(5):
            kinesis.put_record(StreamName="ungathered", Data=str(number).encode(), PartitionKey="p")
            time.sleep(0.35)
        wait_until(lambda: sum(len(event["Records"]) for event in worker.events) == 5)
    finally:
        poller.stop()

    assert len(worker.events) > 1


def test_an_sqs_mapping_keeps_as_many_batches_in_flight_as_the_function_may_run(aws):
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.sqs_poller import SqsMappingPoller

    # Given 30 messages, and a function that may run three invocations at once, whose first three
    # invocations wait for each other.
    sqs, url, arn = _queue("spread")
    for number in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=str(number))
    meeting = threading.Barrier(3, timeout=20)
    calls = [0]
    lock = threading.Lock()

    def respond(event: dict):
        with lock:
            calls[0] += 1
            first = calls[0] <= 3
        if first:
            meeting.wait()

    worker = RecordingWorker(respond, concurrency=3)
    poller = SqsMappingPoller(sqs, url, arn, worker, PollerSettings(batch_size=5), interval=0.05)

    # When the mapping runs.
    poller.start()
    try:
        wait_until(lambda: sum(len(event["Records"]) for event in worker.events) >= 30)
    finally:
        poller.stop()

    # Then three batches were in flight at once, never more, and every message was handled once.
    assert not meeting.broken
    assert worker.most_in_flight == 3
    bodies = sorted(int(record["body"]) for event in worker.events for record in event["Records"])
    assert bodies == list(range(30))


def test_an_sqs_mappings_maximum_concurrency_caps_its_batches_in_flight_below_the_functions(aws):
    from lambda_patterns.local.sqs_poller import SqsMappingPoller
    from lambda_patterns.local.wire_mappings import mapping_settings

    # Given 20 messages, a function that may run five invocations at once, and a mapping whose
    # ScalingConfig allows two (https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html).
    sqs, url, arn = _queue("capped")
    for number in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=str(number))
    settings = mapping_settings({"BatchSize": 2, "ScalingConfig": {"MaximumConcurrency": 2}}, "sqs")
    worker = RecordingWorker(lambda event: time.sleep(0.2), concurrency=5)
    poller = SqsMappingPoller(sqs, url, arn, worker, settings, interval=0.05)

    # When the mapping runs.
    poller.start()
    try:
        wait_until(lambda: sum(len(event["Records"]) for event in worker.events) >= 20)
    finally:
        poller.stop()

    # Then never more than two batches were in flight.
    assert worker.most_in_flight == 2
    assert "at most 2 concurrent batches" in settings.describe(stream=False)


@pytest.mark.parametrize("maximum", [1, 1001])
def test_an_sqs_maximum_concurrency_lambda_refuses_skips_the_mapping(maximum):
    from lambda_patterns.local.wire_mappings import InvalidMapping, mapping_settings

    with pytest.raises(InvalidMapping, match="MaximumConcurrency"):
        mapping_settings({"ScalingConfig": {"MaximumConcurrency": maximum}}, "sqs")


class _CountingSqs:
    """An SQS client that counts its ``receive_message`` calls."""

    def __init__(self, sqs) -> None:
        self._sqs = sqs
        self.receives = 0

    def receive_message(self, **kwargs):
        self.receives += 1
        return self._sqs.receive_message(**kwargs)

    def __getattr__(self, name):
        return getattr(self._sqs, name)


def _idle_receives(name: str, concurrency: int) -> int:
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.sqs_poller import SqsMappingPoller

    sqs, url, arn = _queue(name)
    counting = _CountingSqs(sqs)
    poller = SqsMappingPoller(counting, url, arn, RecordingWorker(concurrency=concurrency), PollerSettings())
    poller.interval = 0.05
    poller.start()
    time.sleep(1.5)
    poller.stop()
    return counting.receives


def test_an_idle_sqs_mapping_polls_about_as_often_with_many_pollers_as_with_one(aws):
    # Every poller of a function with reserved concurrency 50 receiving every 0.2 s kept a core busy
    # against an empty queue; Lambda too scales a queue's pollers down when it finds no messages.
    one = _idle_receives("idle-one", concurrency=1)
    twenty = _idle_receives("idle-twenty", concurrency=20)

    assert twenty <= 2 * one + 20  # each poller's first look, then the lead's


def test_the_pollers_of_an_idle_sqs_mapping_all_take_batches_once_messages_arrive(aws):
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.sqs_poller import SqsMappingPoller

    # Given a mapping of a function that may run four invocations at once, idle for a while.
    sqs, url, arn = _queue("wakes")
    meeting = threading.Barrier(4, timeout=20)
    worker = RecordingWorker(lambda event: meeting.wait() if not meeting.broken else None, concurrency=4)
    poller = SqsMappingPoller(sqs, url, arn, worker, PollerSettings(batch_size=1), interval=0.05)
    poller.start()
    try:
        time.sleep(0.5)

        # When messages arrive.
        for number in range(12):
            sqs.send_message(QueueUrl=url, MessageBody=str(number))
        wait_until(lambda: len(worker.events) >= 12)
    finally:
        poller.stop()

    # Then four batches were in flight at once: every poller woke up.
    assert not meeting.broken
    assert worker.most_in_flight == 4


def test_an_sqs_fifo_message_group_is_never_in_two_batches_at_once(aws):
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.sqs_poller import SqsMappingPoller

    # Given a FIFO queue with four messages in each of three groups.
    sqs, url, arn = _queue("orders.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for number in range(4):
        for group in ("a", "b", "c"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{group}{number}", MessageGroupId=group)
    in_flight: dict[str, int] = {}
    overlaps: list[str] = []
    lock = threading.Lock()

    def respond(event: dict):
        groups = {record["attributes"]["MessageGroupId"] for record in event["Records"]}
        with lock:
            for group in groups:
                in_flight[group] = in_flight.get(group, 0) + 1
                if in_flight[group] > 1:
                    overlaps.append(group)
        time.sleep(0.1)
        with lock:
            for group in groups:
                in_flight[group] -= 1

    worker = RecordingWorker(respond, concurrency=3)
    poller = SqsMappingPoller(sqs, url, arn, worker, PollerSettings(batch_size=1), interval=0.05)

    # When three pollers read it.
    poller.start()
    try:
        wait_until(lambda: sum(len(event["Records"]) for event in worker.events) >= 12)
    finally:
        poller.stop()

    # Then no group was in flight twice, and each group's messages came in order.
    assert overlaps == []
    bodies = [record["body"] for event in worker.events for record in event["Records"]]
    for group in ("a", "b", "c"):
        assert [body for body in bodies if body.startswith(group)] == [f"{group}{n}" for n in range(4)]


def test_an_sqs_batching_window_gathers_messages_sent_apart(aws):
    from lambda_patterns.local.pollers import PollerSettings
    from lambda_patterns.local.sqs_poller import SqsMappingPoller

    sqs, url, arn = _queue("gathered-queue")
    worker = RecordingWorker()
    poller = SqsMappingPoller(
        sqs, url, arn, worker, PollerSettings(batch_size=10, batching_window=2), interval=0.05
    )
    poller.start()
    try:
        for number in range(4):
            sqs.send_message(QueueUrl=url, MessageBody=str(number))
            time.sleep(0.35)
        wait_until(lambda: worker.events)
        time.sleep(0.5)
    finally:
        poller.stop()

    assert [[record["body"] for record in event["Records"]] for event in worker.events] == [
        ["0", "1", "2", "3"]
    ]


@pytest.mark.parametrize(
    ("props", "named"),
    [
        ({"ParallelizationFactor": 11}, "ParallelizationFactor 11"),
        ({"MaximumRecordAgeInSeconds": 30}, "MaximumRecordAgeInSeconds 30"),
        ({"TumblingWindowInSeconds": 60, "ParallelizationFactor": 2}, "ParallelizationFactor 1"),
        ({"TumblingWindowInSeconds": 901}, "TumblingWindowInSeconds 901"),
        ({"MaximumBatchingWindowInSeconds": 301}, "MaximumBatchingWindowInSeconds 301"),
    ],
)
def test_a_mapping_setting_lambda_refuses_is_named(props, named):
    from lambda_patterns.local.wire_mappings import InvalidMapping, mapping_settings

    with pytest.raises(InvalidMapping, match=named):
        mapping_settings(props, "kinesis")


def test_the_template_settings_of_a_stream_mapping_reach_its_poller():
    from lambda_patterns.local.wire_mappings import mapping_settings

    settings = mapping_settings(
        {
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 2,
            "MaximumRecordAgeInSeconds": 3600,
            "TumblingWindowInSeconds": 1,
            "ParallelizationFactor": 1,
            "MaximumRetryAttempts": 3,
            "BisectBatchOnFunctionError": True,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
        "dynamodb",
        on_failure="arn:aws:sqs:us-east-1:123456789012:failures",
    )

    assert (settings.batch_size, settings.batching_window, settings.max_record_age) == (50, 2, 3600)
    assert (settings.tumbling_window, settings.parallelization, settings.max_retries) == (1, 1, 3)
    assert settings.bisect and settings.report_failures
    assert settings.describe(stream=True) == (
        "batch 50, batching window 2 s, partial batch responses, 1 concurrent batch per shard, "
        "tumbling window 1 s, records expire after 3600 s, bisect on error, 3 retries, "
        "on failure to arn:aws:sqs:us-east-1:123456789012:failures"
    )


def test_a_dynamodb_items_changes_share_a_lane_and_different_items_spread_over_lanes():
    from lambda_patterns.local.stream_poller import lane_of

    def change(pk: str, sk: str, status: str) -> dict:
        keys = {"pk": {"S": pk}, "sk": {"S": sk}}
        return {"dynamodb": {"Keys": keys, "NewImage": {**keys, "status": {"S": status}}}}

    # The item's key attributes order its changes, whatever else changes.
    assert lane_of(change("order-1", "line-1", "NEW"), 5) == lane_of(change("order-1", "line-1", "PAID"), 5)
    # Items of one partition key but different sort keys are different items.
    lanes = {lane_of(change("order-1", f"line-{number}", "NEW"), 5) for number in range(40)}
    assert len(lanes) > 1
    assert lanes <= set(range(5))
