"""StreamAggregator: DynamoDB stream records -> aggregates table, exactly once, against moto's server."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import boto3
import pytest

from conftest import AGGREGATES_TABLE, create_pk_table, load_event, load_handler

TABLE = AGGREGATES_TABLE
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-28T00:00:00.000"
FIRST = 500000000000000000001


def image(
    order: int, category: str, amount: str, at: str = "2026-11-28T12:10:00Z", region: str = "eu"
) -> dict:
    return {
        "pk": {"S": f"order#{order}"},
        "category": {"S": category},
        "region": {"S": region},
        "amount": {"N": amount},
        "created_at": {"S": at},
    }


def record(seq: int, name: str, new: dict | None = None, old: dict | None = None, ttl: bool = False) -> dict:
    """A stream record in the shape Lambda delivers for a NEW_AND_OLD_IMAGES stream."""
    body = {
        "ApproximateCreationDateTime": 1795867205,
        "Keys": {"pk": (new or old)["pk"]},
        "SequenceNumber": str(seq),
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = new
    if old is not None:
        body["OldImage"] = old
    result = {
        "eventID": f"{seq:032x}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": ARN,
    }
    if ttl:
        result["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return result


def inserts(count: int, start: int = FIRST, categories=("books", "games")) -> list[dict]:
    return [
        record(start + i, "INSERT", new=image(i, categories[i % len(categories)], f"{i + 1}.50"))
        for i in range(count)
    ]


@pytest.fixture
def aggregator(aws, aggregator_settings):
    create_pk_table(aggregator_settings)
    return load_handler("stream_aggregator")


def aggregates() -> dict[tuple[str, str], dict]:
    """Every aggregate item, without bookkeeping attributes, keyed by (pk, sk)."""
    items = boto3.resource("dynamodb").Table(TABLE).scan(ConsistentRead=True)["Items"]
    return {
        (i["pk"], i["sk"]): {k: v for k, v in i.items() if k in ("count", "sum", "min", "max")}
        for i in items
        if not i["pk"].startswith("mark#")
    }


def totals(key: str, sk: str = "hour#2026-11-28T12:00:00Z") -> dict:
    return aggregates()[(key, sk)]


def emf_totals(capsys) -> dict[str, float]:
    """Sum of every EMF metric printed so far (the handler flushes once per invocation)."""
    sums: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            values = document[definition["Name"]]
            sums[definition["Name"]] = sums.get(definition["Name"], 0) + sum(
                values if isinstance(values, list) else [values]
            )
    return sums


def test_sample_batch_aggregates_count_sum_and_extremes_per_category_and_hour(aggregator, lambda_context):
    response = aggregator.handler(load_event("dynamodb_stream_batch"), lambda_context)

    assert response == {"batchItemFailures": []}
    assert aggregates() == {
        ("category#books", "hour#2026-11-28T12:00:00Z"): {
            "count": 2,
            "sum": Decimal("22.25"),  # 12.50 modified to 15.00, plus 7.25
            "min": Decimal("7.25"),
            "max": Decimal("15.00"),
        },
        ("category#games", "hour#2026-11-28T12:00:00Z"): {
            "count": 1,
            "sum": Decimal("59.99"),
            "min": Decimal("59.99"),
            "max": Decimal("59.99"),
        },
        ("category#games", "hour#2026-11-28T13:00:00Z"): {
            "count": 1,
            "sum": Decimal("20"),
            "min": Decimal("20"),
            "max": Decimal("20"),
        },
    }


def test_each_dimension_gets_its_own_series(aws, monkeypatch, aggregator, lambda_context):
    monkeypatch.setenv("DIMENSIONS", "category,region")
    handler = load_handler("stream_aggregator")

    handler.handler({"Records": inserts(1)}, lambda_context)

    assert set(aggregates()) == {
        ("category#books", "hour#2026-11-28T12:00:00Z"),
        ("region#eu", "hour#2026-11-28T12:00:00Z"),
    }


def test_replaying_a_batch_leaves_every_aggregate_unchanged(aggregator, lambda_context):
    event = {"Records": inserts(10)}
    aggregator.handler(copy.deepcopy(event), lambda_context)
    before = aggregates()

    response = aggregator.handler(copy.deepcopy(event), lambda_context)

    assert response == {"batchItemFailures": []}
    assert aggregates() == before


def test_bisected_halves_redelivered_after_the_batch_change_nothing(aggregator, lambda_context):
    records = inserts(10)
    aggregator.handler({"Records": records}, lambda_context)
    before = aggregates()

    aggregator.handler({"Records": records[:5]}, lambda_context)
    aggregator.handler({"Records": records[5:]}, lambda_context)

    assert aggregates() == before


def test_partially_overlapping_redeliveries_apply_each_record_once(aggregator, lambda_context):
    records = inserts(10)  # books: 1.5, 3.5, ... 9.5; games: 2.5, 4.5, ... 10.5

    aggregator.handler({"Records": records[:4]}, lambda_context)
    aggregator.handler({"Records": records[2:7]}, lambda_context)
    aggregator.handler({"Records": records[5:]}, lambda_context)

    assert totals("category#books") == {
        "count": 5,
        "sum": Decimal("27.5"),
        "min": Decimal("1.5"),
        "max": Decimal("9.5"),
    }
    assert totals("category#games") == {
        "count": 5,
        "sum": Decimal("32.5"),
        "min": Decimal("2.5"),
        "max": Decimal("10.5"),
    }


def test_poison_record_mid_batch_is_reported_and_every_other_record_lands(aggregator, lambda_context, capsys):
    records = inserts(6)
    records[2]["dynamodb"]["NewImage"]["amount"] = {"N": "not-a-number"}
    records[4]["dynamodb"]["NewImage"].pop("created_at")

    response = aggregator.handler({"Records": records}, lambda_context)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": str(FIRST + 2)}, {"itemIdentifier": str(FIRST + 4)}]
    }
    assert totals("category#books")["count"] == 1  # records 0 (1.50); 2 and 4 are poison
    assert totals("category#games")["count"] == 3  # records 1, 3, 5
    assert emf_totals(capsys)["PoisonRecords"] == 2


def test_time_outside_the_utc_calendar_is_reported_as_poison_not_a_batch_crash(aggregator, lambda_context):
    records = inserts(4)
    # A valid ISO 8601 string whose conversion to UTC falls before year 1.
    records[1]["dynamodb"]["NewImage"]["created_at"] = {"S": "0001-01-01T00:00:00+01:00"}

    response = aggregator.handler({"Records": records}, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": str(FIRST + 1)}]}
    assert totals("category#books")["count"] == 2  # records 0 and 2
    assert totals("category#games")["count"] == 1  # record 3; record 1 is poison


def test_dimension_value_too_long_for_a_partition_key_in_bytes_is_poison():
    aggregation = load_handler("stream_aggregator", "aggregation")
    config = aggregation.Config(("category",), "amount", "created_at")
    records = inserts(3)
    # 512 characters but 2048 UTF-8 bytes: "category#" + this exceeds DynamoDB's 2048-byte partition key,
    # and one such key makes BatchGetItem refuse every key of the batch.
    records[1]["dynamodb"]["NewImage"]["category"] = {"S": "\U0001f600" * 512}

    plan = aggregation.plan_batch(records, config)

    assert [sequence for sequence, _reason in plan.poison] == [str(FIRST + 1)]
    assert sum(len(entries) for entries in plan.contributions.values()) == 2


def test_retry_from_the_lowest_failed_record_does_not_double_count_the_records_after_it(
    aggregator, lambda_context
):
    records = inserts(6)
    records[2]["dynamodb"]["NewImage"]["amount"] = {"S": "12"}
    response = aggregator.handler({"Records": records}, lambda_context)
    after_first = aggregates()

    # Lambda's checkpoint semantics for streams: the retry starts at the lowest reported sequence number.
    lowest = int(response["batchItemFailures"][0]["itemIdentifier"])
    retry = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
    second = aggregator.handler({"Records": retry}, lambda_context)

    assert second == response
    assert aggregates() == after_first


def test_modify_with_a_changed_dimension_moves_the_amount_to_the_new_value(aggregator, lambda_context):
    aggregator.handler({"Records": [record(FIRST, "INSERT", new=image(1, "books", "30"))]}, lambda_context)

    aggregator.handler(
        {"Records": [record(FIRST + 1, "MODIFY", new=image(1, "games", "30"), old=image(1, "books", "30"))]},
        lambda_context,
    )

    assert totals("category#books") == {"count": 0, "sum": 0, "min": 30, "max": 30}
    assert totals("category#games") == {"count": 1, "sum": 30, "min": 30, "max": 30}


def test_modify_into_another_hour_moves_the_amount_to_the_new_bucket(aggregator, lambda_context):
    before = image(1, "books", "30", at="2026-11-28T12:59:59Z")
    after = image(1, "books", "30", at="2026-11-28T13:00:00Z")
    aggregator.handler({"Records": [record(FIRST, "INSERT", new=before)]}, lambda_context)

    aggregator.handler({"Records": [record(FIRST + 1, "MODIFY", new=after, old=before)]}, lambda_context)

    assert totals("category#books")["count"] == 0
    assert totals("category#books", "hour#2026-11-28T13:00:00Z")["sum"] == 30


def test_modify_of_the_value_applies_the_difference(aggregator, lambda_context):
    aggregator.handler({"Records": [record(FIRST, "INSERT", new=image(1, "books", "10"))]}, lambda_context)

    aggregator.handler(
        {"Records": [record(FIRST + 1, "MODIFY", new=image(1, "books", "4.5"), old=image(1, "books", "10"))]},
        lambda_context,
    )

    assert totals("category#books") == {"count": 1, "sum": Decimal("4.5"), "min": Decimal("4.5"), "max": 10}


def test_remove_subtracts_and_keeps_min_max_as_observed_extremes(aggregator, lambda_context):
    aggregator.handler(
        {
            "Records": [
                record(FIRST, "INSERT", new=image(1, "books", "10")),
                record(FIRST + 1, "INSERT", new=image(2, "books", "90")),
            ]
        },
        lambda_context,
    )

    aggregator.handler(
        {"Records": [record(FIRST + 2, "REMOVE", old=image(2, "books", "90"))]}, lambda_context
    )

    assert totals("category#books") == {"count": 1, "sum": 10, "min": 10, "max": 90}


def test_ttl_expiry_is_recognised_counted_and_subtracted(aggregator, lambda_context, capsys):
    aggregator.handler(load_event("dynamodb_stream_batch"), lambda_context)
    capsys.readouterr()

    response = aggregator.handler(load_event("dynamodb_stream_ttl_delete"), lambda_context)

    assert response == {"batchItemFailures": []}
    assert totals("category#books")["count"] == 1
    assert totals("category#books")["sum"] == Decimal("15.00")
    assert emf_totals(capsys)["TtlDeletes"] == 1


def test_ttl_expiry_keeps_history_when_configured_to_ignore(
    aws, monkeypatch, aggregator, lambda_context, capsys
):
    monkeypatch.setenv("TTL_DELETES", "ignore")
    handler = load_handler("stream_aggregator")
    handler.handler(load_event("dynamodb_stream_batch"), lambda_context)
    before = aggregates()
    capsys.readouterr()

    handler.handler(load_event("dynamodb_stream_ttl_delete"), lambda_context)

    assert aggregates() == before
    assert emf_totals(capsys)["TtlDeletes"] == 1


def test_a_user_delete_is_not_mistaken_for_ttl_expiry(aggregator, lambda_context, capsys):
    aggregator.handler({"Records": [record(FIRST, "REMOVE", old=image(1, "books", "5"))]}, lambda_context)

    assert emf_totals(capsys)["TtlDeletes"] == 0


def test_rows_without_any_aggregated_attribute_are_ignored_not_poison(aggregator, lambda_context, capsys):
    customer = {"pk": {"S": "customer#7"}, "name": {"S": "Ada"}}

    response = aggregator.handler({"Records": [record(FIRST, "INSERT", new=customer)]}, lambda_context)

    assert response == {"batchItemFailures": []}
    assert aggregates() == {}
    assert emf_totals(capsys)["RecordsIgnored"] == 1


def test_one_write_per_aggregate_item_per_batch(aggregator, lambda_context):
    writes = []
    for operation in ("UpdateItem", "TransactWriteItems"):
        aggregator.dynamodb.meta.events.register(
            f"before-parameter-build.dynamodb.{operation}", lambda **kwargs: writes.append(kwargs["params"])
        )

    aggregator.handler(
        {"Records": inserts(40, categories=("books", "games", "music", "toys"))}, lambda_context
    )

    assert len(writes) == 4


def test_shards_named_by_a_tumbling_window_keep_separate_marks(aggregator, lambda_context):
    # Two shards' sequence numbers interleave; one global mark would drop the lower shard's records.
    high = {"Records": inserts(2, start=FIRST + 1000), "shardId": "shardId-a", "window": {}}
    low = {"Records": inserts(2, start=FIRST), "shardId": "shardId-b", "window": {}}

    assert aggregator.handler(high, lambda_context) == {"batchItemFailures": [], "state": {}}
    aggregator.handler(low, lambda_context)
    aggregator.handler(copy.deepcopy(low), lambda_context)

    assert totals("category#books")["count"] == 2
    assert totals("category#games")["count"] == 2


def test_unreachable_table_reports_every_aggregated_record_without_raising(
    aws, aggregator_settings, monkeypatch, lambda_context
):
    monkeypatch.setenv("AGGREGATES_TABLE", "missing-table")
    handler = load_handler("stream_aggregator")

    response = handler.handler({"Records": inserts(3)}, lambda_context)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [str(FIRST + i) for i in range(3)]


def test_stale_read_never_overwrites_a_smaller_minimum(aggregator, lambda_context):
    from lambda_common.marks import guarded_update

    aggregation = load_handler("stream_aggregator", "aggregation")
    config = aggregation.parse_config(
        {"DIMENSIONS": "category", "VALUE_ATTRIBUTE": "a", "TIME_ATTRIBUTE": "t"}
    )
    key = aggregation.AggregateKey("category", "books", "hour", "2026-11-28T12:00:00Z")
    client = boto3.client("dynamodb")
    from datetime import UTC, datetime

    def write(lane, seq, value, observed):
        return guarded_update(
            client,
            table=TABLE,
            key=key.item_key,
            lane=lane,
            entries=[(f"{seq:0128d}", aggregation.Delta.added(Decimal(value)))],
            plan=lambda pending, seen: aggregation.update_plan(pending, seen, key, datetime.now(UTC), config),
            observed=observed,
        )

    write("shard-a", 1, "3", None)
    # Lane b read the item before lane a wrote, so it believes 5 is a new minimum.
    result = write("shard-b", 1, "5", None)

    assert result.writes == 2
    assert totals("category#books") == {"count": 2, "sum": 8, "min": 3, "max": 5}


def test_sums_keep_the_38_significant_digits_dynamodb_stores():
    aggregation = load_handler("stream_aggregator", "aggregation")
    big, small = Decimal("1" + "0" * 29), Decimal("0.1")

    total = (aggregation.Delta.added(big) + aggregation.Delta.added(small)).total

    assert total == Decimal("100000000000000000000000000000.1")


def item_size(item: dict) -> int:
    from lambda_common.dynamo import item_size as size

    return size(item)


def raw_items() -> list[dict]:
    return boto3.resource("dynamodb").Table(TABLE).scan(ConsistentRead=True)["Items"]


def test_cancelling_contributions_still_mark_the_shard_so_a_retry_from_a_poison_record_lands_once(
    aggregator, lambda_context
):
    # Given books holding 1 and 10 from earlier batches,
    row = lambda order, amount: image(order, "books", amount)  # noqa: E731
    earlier = [record(FIRST, "INSERT", new=row(1, "1")), record(FIRST + 1, "INSERT", new=row(2, "10"))]
    window = {"shardId": "shardId-1", "window": {}}
    aggregator.handler({"Records": earlier, **window}, lambda_context)
    poison = image(4, "books", "3")
    del poison["amount"]
    # when a batch inserts and removes the same 5.00 row around a poison record (its net change is zero),
    batch = [
        record(FIRST + 2, "INSERT", new=row(3, "5")),
        record(FIRST + 3, "INSERT", new=poison),
        record(FIRST + 4, "REMOVE", old=row(3, "5")),
    ]
    response = aggregator.handler({"Records": batch, **window}, lambda_context)
    assert response["batchItemFailures"] == [{"itemIdentifier": str(FIRST + 3)}]
    # and Lambda resends the batch from the poison record, as ReportBatchItemFailures makes it,
    aggregator.handler({"Records": batch[1:], **window}, lambda_context)

    # then the REMOVE is not applied a second time: books holds the two earlier rows.
    assert totals("category#books") == {"count": 2, "sum": 11, "min": 1, "max": 10}


def test_the_same_record_twice_in_one_batch_is_applied_once(aggregator, lambda_context, capsys):
    records = inserts(3)
    batch = [records[0], records[1], copy.deepcopy(records[1]), records[2], copy.deepcopy(records[0])]

    aggregator.handler({"Records": batch, "shardId": "shardId-1", "window": {}}, lambda_context)

    assert totals("category#books")["count"] == 2
    assert totals("category#games")["count"] == 1
    assert emf_totals(capsys)["DuplicateRecords"] == 2


def test_aggregate_items_stay_small_whatever_the_number_of_shards(aggregator, lambda_context):
    # DynamoDB streams roll their shards about every four hours: a busy table meets thousands of shard ids.
    for shard in range(150):
        event = {"Records": inserts(1, start=FIRST + shard), "shardId": f"shardId-{shard:040d}", "window": {}}
        aggregator.handler(event, lambda_context)

    aggregate = next(i for i in raw_items() if i["sk"].startswith("hour#"))
    assert aggregate["count"] == 150
    assert item_size(aggregate) < 400
    marks = [i for i in raw_items() if i["pk"].startswith("mark#")]
    assert len(marks) == 150
    assert max(item_size(mark) for mark in marks) < 400


def test_idempotency_marks_expire_after_the_stream_can_no_longer_redeliver(aggregator, lambda_context):
    import time

    before = int(time.time())
    aggregator.handler({"Records": inserts(1), "shardId": "shardId-1", "window": {}}, lambda_context)

    (mark,) = [i for i in raw_items() if i["pk"].startswith("mark#")]
    # Stream records live 24 hours; the mark outlives the last record it covers by a day more.
    assert before + 48 * 3600 <= mark["expires_at"] <= time.time() + 48 * 3600 + 1


def test_a_write_from_an_older_release_keeps_its_mark_on_the_item(aggregator, lambda_context):
    # Items written before marks had their own items hold ``seq#<lane>``; a replay must still be skipped.
    records = inserts(2)
    client = boto3.client("dynamodb")
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "category#books"},
            "sk": {"S": "hour#2026-11-28T12:00:00Z"},
            "count": {"N": "1"},
            "sum": {"N": "1.5"},
            "min": {"N": "1.5"},
            "max": {"N": "1.5"},
            "seq#shardId-1": {"S": str(FIRST).zfill(128)},
        },
    )

    aggregator.handler({"Records": records, "shardId": "shardId-1", "window": {}}, lambda_context)

    assert totals("category#books") == {
        "count": 1,
        "sum": Decimal("1.5"),
        "min": Decimal("1.5"),
        "max": Decimal("1.5"),
    }
    assert totals("category#games")["count"] == 1


def test_a_dimension_value_that_is_not_valid_utf8_is_poison_not_a_crash(aggregator, lambda_context):
    records = inserts(3)
    records[0]["dynamodb"]["NewImage"]["category"] = {"S": "books\ud800"}

    response = aggregator.handler({"Records": records, "shardId": "shardId-1", "window": {}}, lambda_context)

    assert response["batchItemFailures"] == [{"itemIdentifier": str(FIRST)}]
    assert totals("category#books")["count"] == 1
    assert totals("category#games")["count"] == 1
