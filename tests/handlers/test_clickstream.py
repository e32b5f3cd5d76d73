"""ClickstreamAnalytics: Kinesis click records -> per-minute counts, exactly once, against moto's server."""

from __future__ import annotations

import base64
import copy
import json

import boto3
import pytest

from conftest import create_pk_table, load_event, load_handler
from records import KINESIS_SEQ, kinesis_record

TABLE = "click-counts"
SEQ = KINESIS_SEQ


def click_record(i: int, click: dict | bytes, shard: str = "shardId-000000000000") -> dict:
    return kinesis_record(i, click, shard)


def taps(count: int, start: int = 0, shard: str = "shardId-000000000000") -> list[dict]:
    click = {"event_type": "tap", "screen": "home", "timestamp": "2026-11-28T12:00:05Z", "user_id": "u"}
    return [click_record(start + i, click, shard) for i in range(count)]


@pytest.fixture
def queue_url(aws):
    return boto3.client("sqs").create_queue(QueueName="malformed-clicks")["QueueUrl"]


@pytest.fixture
def clickstream(aws, monkeypatch, queue_url):
    monkeypatch.setenv("COUNTS_TABLE", TABLE)
    monkeypatch.setenv("MALFORMED_QUEUE_URL", queue_url)
    create_pk_table(TABLE)
    return load_handler("clickstream")


def counts() -> dict[tuple[str, str], int]:
    items = boto3.resource("dynamodb").Table(TABLE).scan(ConsistentRead=True)["Items"]
    return {(i["pk"], i["sk"]): int(i["count"]) for i in items if "count" in i}


def quarantined(queue_url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_sample_batch_counts_clicks_per_screen_event_type_and_minute(clickstream, lambda_context):
    response = clickstream.handler(load_event("kinesis_clicks"), lambda_context)

    assert response == {"batchItemFailures": []}
    assert counts() == {
        ("screen#home", "2026-11-28T12:00Z#tap"): 2,
        ("screen#home", "2026-11-28T12:00Z#view"): 1,
        ("screen#home", "2026-11-28T12:01Z#tap"): 1,
        ("screen#cart", "2026-11-28T12:01Z#tap"): 1,
    }


def test_last_minutes_of_a_screen_are_one_query(clickstream, lambda_context):
    clickstream.handler(load_event("kinesis_clicks"), lambda_context)

    items = (
        boto3.resource("dynamodb")
        .Table(TABLE)
        .query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues={
                ":pk": "screen#home",
                ":from": "2026-11-28T12:00Z",
                ":to": "2026-11-28T12:01Z~",
            },
        )["Items"]
    )

    assert [(i["minute"], i["event_type"], int(i["count"])) for i in items] == [
        ("2026-11-28T12:00Z", "tap", 2),
        ("2026-11-28T12:00Z", "view", 1),
        ("2026-11-28T12:01Z", "tap", 1),
    ]


def test_replaying_a_batch_leaves_counts_unchanged(clickstream, lambda_context):
    event = load_event("kinesis_clicks")
    clickstream.handler(copy.deepcopy(event), lambda_context)
    before = counts()

    clickstream.handler(copy.deepcopy(event), lambda_context)

    assert counts() == before


def test_bisected_and_overlapping_redeliveries_count_each_click_once(clickstream, lambda_context):
    records = taps(10)

    clickstream.handler({"Records": records[:3]}, lambda_context)
    clickstream.handler({"Records": records[:6]}, lambda_context)
    clickstream.handler({"Records": records[4:]}, lambda_context)
    clickstream.handler({"Records": records[7:]}, lambda_context)

    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 10}


def test_shards_count_independently_even_when_sequence_numbers_interleave(clickstream, lambda_context):
    clickstream.handler({"Records": taps(3, start=100, shard="shardId-000000000001")}, lambda_context)

    clickstream.handler({"Records": taps(3, start=0, shard="shardId-000000000002")}, lambda_context)

    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 6}


def test_malformed_records_are_quarantined_counted_and_never_block_the_shard(
    clickstream, lambda_context, queue_url, capsys
):
    response = clickstream.handler(load_event("kinesis_clicks_malformed"), lambda_context)

    assert response == {"batchItemFailures": []}
    assert counts() == {
        ("screen#home", "2026-11-28T12:00Z#tap"): 2,
        ("screen#cart", "2026-11-28T12:00Z#view"): 1,
    }
    reports = sorted(quarantined(queue_url), key=lambda r: r["sequence_number"])
    assert [(r["sequence_number"][-3:], r["reason"]) for r in reports] == [
        ("899", "data is not JSON"),
        ("901", "data is not base64"),
        ("902", "screen missing or not a non-empty string"),
    ]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["MalformedRecords"] == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 100_000, "data is not JSON"),  # deep nesting: json raises RecursionError
        (b'{"n": ' + b"9" * 5000 + b"}", "data is not JSON"),  # past the int digit limit: a bare ValueError
        (
            json.dumps({"event_type": "tap", "screen": "home", "timestamp": 10**400}).encode(),
            "timestamp is out of range: " + "1" + "0" * 400,
        ),
        (
            json.dumps(
                {"event_type": "tap", "screen": "home", "timestamp": "9999-12-31T23:59:59-01:00"}
            ).encode(),
            "timestamp is out of range in UTC: '9999-12-31T23:59:59-01:00'",
        ),
    ],
    ids=["deep-nesting", "huge-integer", "huge-epoch", "past-year-9999-in-utc"],
)
def test_payloads_that_break_the_parsers_are_quarantined_and_the_rest_counted(
    clickstream, lambda_context, queue_url, data, reason
):
    records = taps(3)
    records[1] = click_record(1, data)

    response = clickstream.handler({"Records": records}, lambda_context)

    assert response == {"batchItemFailures": []}
    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 2}
    assert [r["reason"] for r in quarantined(queue_url)] == [reason]


def test_a_malformed_record_keeps_its_bytes_for_inspection(clickstream, lambda_context, queue_url):
    clickstream.handler({"Records": [click_record(0, b"\xff\xfe binary")]}, lambda_context)

    (report,) = quarantined(queue_url)

    assert base64.b64decode(report["data"]) == b"\xff\xfe binary"
    assert report["event_id"].startswith("shardId-000000000000:")


def test_malformed_record_is_retried_rather_than_lost_when_the_queue_is_unavailable(
    aws, monkeypatch, clickstream, lambda_context
):
    monkeypatch.setenv("MALFORMED_QUEUE_URL", f"{aws}/123456789012/no-such-queue")
    handler = load_handler("clickstream")
    records = [*taps(1), click_record(1, b"nope"), *taps(1, start=2)]

    response = handler.handler({"Records": records}, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": str(SEQ + 1)}]}
    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 2}


def test_epoch_millisecond_timestamps_land_in_their_minute(clickstream, lambda_context):
    click = {"event_type": "tap", "screen": "home", "timestamp": 1795867265000}  # 2026-11-28T12:01:05Z

    clickstream.handler({"Records": [click_record(0, click)]}, lambda_context)

    assert counts() == {("screen#home", "2026-11-28T12:01Z#tap"): 1}


def test_one_write_per_count_item_per_batch(clickstream, lambda_context):
    writes = []
    for operation in ("UpdateItem", "TransactWriteItems"):
        clickstream.dynamodb.meta.events.register(
            f"before-parameter-build.dynamodb.{operation}", lambda params, **_: writes.append(params)
        )

    clickstream.handler({"Records": taps(50)}, lambda_context)

    assert len(writes) == 1


def all_quarantined(queue_url: str) -> list[dict]:
    """Every message on the queue (several receives; moto hands out at most ten at a time)."""
    reports = []
    while batch := quarantined(queue_url):
        reports.extend(batch)
    return reports


@pytest.mark.parametrize(
    ("click", "reason"),
    [
        ({"event_type": "\U0001f600" * 256, "screen": "home"}, "over DynamoDB's 1024"),
        ({"event_type": "tap", "screen": "home\ud800"}, "not valid UTF-8"),
        ({"event_type": "tap\udfff", "screen": "home"}, "not valid UTF-8"),
    ],
    ids=["sort-key-over-1024-bytes", "lone-surrogate-screen", "lone-surrogate-event-type"],
)
def test_a_click_dynamodb_can_never_store_is_quarantined_once_not_retried(
    clickstream, lambda_context, queue_url, click, reason
):
    # Given a click whose key DynamoDB refuses on every attempt (moto would accept it),
    data = json.dumps({**click, "timestamp": "2026-11-28T12:00:05Z"}).encode()
    records = [*taps(1), click_record(1, data), *taps(1, start=2)]

    # when it arrives between two good clicks,
    response = clickstream.handler({"Records": records}, lambda_context)

    # then it is quarantined with its reason and its neighbours are counted, nothing retried.
    assert response == {"batchItemFailures": []}
    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 2}
    (report,) = all_quarantined(queue_url)
    assert reason in report["reason"]


def test_a_replayed_batch_does_not_quarantine_the_same_record_again(clickstream, lambda_context, queue_url):
    records = [*taps(2), click_record(2, b"nope"), click_record(3, b"{}"), *taps(2, start=4)]

    clickstream.handler({"Records": records}, lambda_context)
    clickstream.handler({"Records": copy.deepcopy(records)}, lambda_context)
    clickstream.handler({"Records": copy.deepcopy(records[3:])}, lambda_context)

    reports = all_quarantined(queue_url)
    assert sorted(r["sequence_number"] for r in reports) == [str(SEQ + 2), str(SEQ + 3)]
    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 4}


def test_each_quarantined_record_carries_a_stable_id_a_reader_can_deduplicate_on(
    clickstream, lambda_context, queue_url
):
    clickstream.handler({"Records": [click_record(0, b"nope")]}, lambda_context)

    (report,) = all_quarantined(queue_url)

    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
    assert report["quarantine_id"] == f"{arn}/shardId-000000000000/{SEQ}"


def test_the_same_click_twice_in_one_batch_is_counted_once(clickstream, lambda_context):
    records = taps(3)

    clickstream.handler({"Records": [*records, copy.deepcopy(records[1])]}, lambda_context)

    assert counts() == {("screen#home", "2026-11-28T12:00Z#tap"): 3}
