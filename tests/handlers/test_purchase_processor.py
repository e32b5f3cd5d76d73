"""PurchaseEventProcessor: SNS envelopes in SQS -> purchases + aggregates, exactly once (moto server)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import create_pk_table, load_event, load_handler
from records import sqs_message

PURCHASES = "purchases"
AGGREGATES = "purchase-aggregates"


def purchase(
    pid: str, customer: str = "c-1", product: str = "sku-1", quantity=1, price="10.00", **extra
) -> dict:
    data = {
        "purchase_id": pid,
        "customer_id": customer,
        "product_id": product,
        "quantity": quantity,
        "unit_price": price,
        "currency": "EUR",
        "purchased_at": "2026-11-28T12:00:00Z",
    }
    return {**data, **extra}


def message(body: dict | str, n: int, queue: str = "purchases") -> dict:
    return sqs_message(body, n, queue)


@pytest.fixture
def tables(aws):
    create_pk_table(PURCHASES, sort_key=False)
    create_pk_table(AGGREGATES)


@pytest.fixture
def rejected_queue(aws, monkeypatch):
    url = boto3.client("sqs").create_queue(QueueName="purchases-dlq")["QueueUrl"]
    monkeypatch.setenv("REJECTED_QUEUE_URL", url)
    return url


@pytest.fixture
def processor(aws, tables, rejected_queue, monkeypatch):
    monkeypatch.setenv("PURCHASES_TABLE", PURCHASES)
    monkeypatch.setenv("AGGREGATES_TABLE", AGGREGATES)
    return load_handler("purchase_processor")


def rejected(queue_url: str) -> list[dict]:
    """Every message moved to the rejected-messages queue: body and attributes."""
    client, found = boto3.client("sqs"), []
    while True:
        batch = client.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return found
        for m in batch:
            attributes = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
            found.append({"body": m["Body"], **attributes})


def aggregate(pk: str, sk: str = "totals") -> dict:
    item = (
        boto3.resource("dynamodb").Table(AGGREGATES).get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True)
    )
    return item.get("Item", {})


def everything() -> tuple[list, list]:
    resource = boto3.resource("dynamodb")
    return (
        sorted(resource.Table(PURCHASES).scan()["Items"], key=lambda i: i["pk"]),
        sorted(resource.Table(AGGREGATES).scan()["Items"], key=lambda i: (i["pk"], i["sk"])),
    )


def test_sample_batch_stores_purchases_and_aggregates_with_exact_money(processor, lambda_context):
    response = processor.handler(load_event("sqs_sns_purchase"), lambda_context)

    assert response == {"batchItemFailures": []}
    stored, _ = everything()
    assert [p["pk"] for p in stored] == ["p-1", "p-2", "p-3", "p-4"]
    assert stored[0]["amount"] == Decimal("39.98")
    assert stored[0]["sns_message_id"].startswith("5f1c2d3e")
    product = aggregate("product#sku-1")
    assert (product["purchases"], product["units_sold"], product["buyers"]) == (3, 6, 2)
    assert product["revenue_EUR"] == Decimal("112.47")  # 2 x 19.99 + 19.99 + 3 x 17.50
    customer = aggregate("customer#c-1")
    assert customer["purchases"] == 3
    assert customer["spend_EUR"] == Decimal("97.58")  # 39.98 + 52.50 + 5.1 (raw delivery, JSON number)


def test_redelivered_batch_neither_duplicates_purchases_nor_double_counts(processor, lambda_context, capsys):
    event = load_event("sqs_sns_purchase")
    processor.handler(copy.deepcopy(event), lambda_context)
    before = everything()
    capsys.readouterr()

    response = processor.handler(copy.deepcopy(event), lambda_context)

    assert response == {"batchItemFailures": []}
    assert everything() == before
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["DuplicatePurchases"] == 4


def test_transaction_for_an_already_stored_purchase_is_cancelled_as_a_whole(processor):
    records = load_handler("purchase_processor", "purchase_records")
    p = records.parse_purchase(json.dumps(purchase("p-1", quantity=2)))
    items = records.transaction(
        p, records.Observed(False, None), PURCHASES, AGGREGATES, "2026-11-28T12:00:00.000Z"
    )
    client = boto3.client("dynamodb")
    client.transact_write_items(TransactItems=items)
    before = everything()

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=items)

    assert raised.value.response["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"
    assert everything() == before


def test_invalid_messages_mid_batch_are_rejected_once_and_valid_ones_land(
    processor, lambda_context, capsys, rejected_queue
):
    event = load_event("sqs_sns_purchase_invalid")

    response = processor.handler(event, lambda_context)

    # Redelivery can never make them valid: they go to the dead-letter queue now, untouched, not retried.
    assert response == {"batchItemFailures": []}
    moved = sorted(rejected(rejected_queue), key=lambda m: m["source_message_id"])
    assert [m["source_message_id"][-2:] for m in moved] == ["11", "12", "13"]  # quantity 0, not JSON, "abc"
    bodies = {r["messageId"]: r["body"] for r in event["Records"]}
    assert all(m["body"] == bodies[m["source_message_id"]] for m in moved)
    assert "quantity" in moved[0]["rejection_reason"]
    assert [p["pk"] for p in everything()[0]] == ["p-10", "p-14"]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["InvalidPurchases"] == 3


@pytest.mark.parametrize(
    "poison",
    [
        "[" * 100_000,  # deep nesting: json raises RecursionError
        '{"quantity": ' + "9" * 5000 + "}",  # past the int digit limit: a bare ValueError
        purchase("p-x", purchased_at="0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
        purchase("p-x", price="1e200"),  # beyond DynamoDB's number range
        purchase("p-x", price="1e-200"),
        purchase("p-x", price="9" * 37 + ".9", quantity=7),  # the amount needs more than 38 digits
    ],
    ids=["deep-nesting", "huge-integer", "year-0-in-utc", "huge-price", "tiny-price", "amount-digits"],
)
def test_a_message_that_breaks_the_parsers_is_rejected_alone_and_the_batch_lands(
    processor, lambda_context, poison, rejected_queue
):
    event = {"Records": [message(purchase("p-1"), 1), message(poison, 2), message(purchase("p-3"), 3)]}

    response = processor.handler(event, lambda_context)

    assert response == {"batchItemFailures": []}
    assert [m["source_message_id"] for m in rejected(rejected_queue)] == ["msg-2"]
    assert [p["pk"] for p in everything()[0]] == ["p-1", "p-3"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"customer_id": "\U0001f600" * 256}, "over DynamoDB's 1024"),  # buyer#<customer> as a sort key
        ({"customer_id": "c\ud800"}, "not valid UTF-8"),
        ({"product_id": "sku\udfff"}, "not valid UTF-8"),
        ({"purchase_id": "p\ud83d"}, "not valid UTF-8"),
    ],
    ids=[
        "buyer-sort-key-over-1024-bytes",
        "lone-surrogate-customer",
        "lone-surrogate-product",
        "lone-surrogate-id",
    ],
)
def test_a_purchase_dynamodb_can_never_store_is_rejected_once_not_retried(
    processor, lambda_context, rejected_queue, fields, reason
):
    # Given a purchase whose keys DynamoDB refuses on every attempt (moto would store them),
    bad = purchase("p-2", **fields)
    event = {"Records": [message(purchase("p-1"), 1), message(bad, 2), message(purchase("p-3"), 3)]}

    # when it arrives between two good purchases,
    response = processor.handler(event, lambda_context)

    # then it is rejected once with its reason, and its neighbours are recorded.
    assert response == {"batchItemFailures": []}
    (moved,) = rejected(rejected_queue)
    assert reason in moved["rejection_reason"]
    assert [p["pk"] for p in everything()[0]] == ["p-1", "p-3"]


def test_an_invalid_message_is_reported_rather_than_lost_when_the_rejected_queue_is_unavailable(
    aws, tables, monkeypatch, lambda_context
):
    monkeypatch.setenv("PURCHASES_TABLE", PURCHASES)
    monkeypatch.setenv("AGGREGATES_TABLE", AGGREGATES)
    monkeypatch.setenv("REJECTED_QUEUE_URL", f"{aws}/123456789012/no-such-queue")
    handler = load_handler("purchase_processor")

    response = handler.handler(
        {"Records": [message("not json", 1), message(purchase("p-2"), 2)]}, lambda_context
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert [p["pk"] for p in everything()[0]] == ["p-2"]


def test_amount_is_exact_beyond_the_default_decimal_precision():
    records = load_handler("purchase_processor", "purchase_records")
    price = "1.000000000000000000000000000001"  # 31 significant digits

    parsed = records.parse_purchase(json.dumps(purchase("p-1", price=price, quantity=3)))

    assert parsed.amount == Decimal("3.000000000000000000000000000003")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "eur"),
        ("purchased_at", "2026-11-28T12:00:00"),
        ("quantity", 1.5),
        ("unit_price", "-1"),
        ("unit_price", "NaN"),
        ("customer_id", ""),
    ],
)
def test_purchase_with_an_invalid_field_is_rejected(field, value):
    records = load_handler("purchase_processor", "purchase_records")

    with pytest.raises(records.InvalidPurchase, match=field):
        records.parse_purchase(json.dumps(purchase("p-1", **{field: value})))


def test_buyers_counts_distinct_customers_not_purchases(processor, lambda_context):
    batch = [message(purchase(f"p-{n}", customer=c), n) for n, c in enumerate(["c-1", "c-1", "c-2", "c-1"])]

    processor.handler({"Records": batch}, lambda_context)

    assert aggregate("product#sku-1")["buyers"] == 2
    assert aggregate("product#sku-1", "buyer#c-1")["purchases"] == 3


def test_last_purchase_stays_the_latest_when_messages_arrive_out_of_order(processor, lambda_context):
    late = purchase("p-new", purchased_at="2026-11-28T13:00:00Z")
    early = purchase("p-old", purchased_at="2026-11-28T14:00:00+02:00")  # 12:00Z

    processor.handler({"Records": [message(late, 1), message(early, 2)]}, lambda_context)

    customer = aggregate("customer#c-1")
    assert (customer["last_purchase_id"], customer["last_purchase_at"]) == (
        "p-new",
        "2026-11-28T13:00:00.000Z",
    )
    assert customer["purchases"] == 2


def test_revenue_is_kept_per_currency(processor, lambda_context):
    batch = [message(purchase("p-1"), 1), message(purchase("p-2", currency="USD", price="3.30"), 2)]

    processor.handler({"Records": batch}, lambda_context)

    product = aggregate("product#sku-1")
    assert (product["revenue_EUR"], product["revenue_USD"]) == (Decimal("10.00"), Decimal("3.30"))


def test_transaction_built_on_a_stale_read_is_cancelled_and_the_handler_rebuilds_it(
    processor, lambda_context
):
    records = load_handler("purchase_processor", "purchase_records")
    processor.handler({"Records": [message(purchase("p-1"), 1)]}, lambda_context)
    second = records.parse_purchase(json.dumps(purchase("p-2")))
    stale = records.transaction(second, records.Observed(False, None), PURCHASES, AGGREGATES, "now")

    with pytest.raises(ClientError):
        boto3.client("dynamodb").transact_write_items(TransactItems=stale)
    assert aggregate("product#sku-1")["purchases"] == 1

    outcome = processor.record_purchase(processor.dynamodb, second, PURCHASES, AGGREGATES)

    assert outcome == "recorded"
    assert (aggregate("product#sku-1")["purchases"], aggregate("product#sku-1")["buyers"]) == (2, 1)


def test_fifo_queue_reports_every_message_after_the_first_failure(processor, lambda_context):
    batch = [
        message(purchase("p-1"), 1, "purchases.fifo"),
        message(purchase("p-2"), 2, "purchases.fifo"),
        message(purchase("p-3"), 3, "purchases.fifo"),
    ]

    def throttle_p2(params, **_):
        if any(
            item.get("Put", {}).get("Item", {}).get("pk") == {"S": "p-2"} for item in params["TransactItems"]
        ):
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}},
                "TransactWriteItems",
            )

    processor.dynamodb.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", throttle_p2)
    try:
        response = processor.handler({"Records": batch}, lambda_context)
    finally:
        processor.dynamodb.meta.events.unregister(
            "before-parameter-build.dynamodb.TransactWriteItems", throttle_p2
        )

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-2"}, {"itemIdentifier": "msg-3"}]}
    assert [p["pk"] for p in everything()[0]] == ["p-1"]


def test_an_invalid_message_on_a_fifo_queue_is_rejected_without_holding_back_its_group(
    aws, tables, monkeypatch, lambda_context
):
    url = boto3.client("sqs").create_queue(QueueName="purchases-dlq.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    monkeypatch.setenv("PURCHASES_TABLE", PURCHASES)
    monkeypatch.setenv("AGGREGATES_TABLE", AGGREGATES)
    monkeypatch.setenv("REJECTED_QUEUE_URL", url)
    handler = load_handler("purchase_processor")
    batch = [message(purchase("p-1"), 1, "purchases.fifo"), message("not json", 2, "purchases.fifo")]
    batch.append(message(purchase("p-3"), 3, "purchases.fifo"))

    response = handler.handler({"Records": batch}, lambda_context)

    assert response == {"batchItemFailures": []}
    assert [m["source_message_id"] for m in rejected(url)] == ["msg-2"]
    assert [p["pk"] for p in everything()[0]] == ["p-1", "p-3"]


def test_unreachable_table_reports_the_message_without_raising(
    aws, tables, rejected_queue, monkeypatch, lambda_context
):
    monkeypatch.setenv("PURCHASES_TABLE", "missing-table")
    monkeypatch.setenv("AGGREGATES_TABLE", AGGREGATES)
    handler = load_handler("purchase_processor")

    response = handler.handler({"Records": [message(purchase("p-1"), 1)]}, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
