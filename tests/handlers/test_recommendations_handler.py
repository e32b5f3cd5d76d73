"""Recommendations from purchases, end to end on moto: purchase messages through the real purchase
processor, then ``GET /products/{id}/recommendations`` through the real recommendations handler, checked
against an answer worked out by hand from the purchase history."""

from __future__ import annotations

import json

import boto3
import pytest

from conftest import create_pk_table, load_handler
from records import sqs_message

PURCHASES = "purchases"
AGGREGATES = "purchase-aggregates"

# Who bought what, all within one month. By hand, for "camera":
#   bought with it by c1: lens, bag; c2: lens, tripod; c3: lens, bag; c4: bag (and camera twice)
#   -> lens 3, bag 3, tripod 1; ties by product id: bag before lens.
HISTORY = [
    ("c1", "camera", "2026-11-01T10:00:00Z"),
    ("c1", "lens", "2026-11-01T10:05:00Z"),
    ("c1", "bag", "2026-11-03T09:00:00Z"),
    ("c2", "lens", "2026-11-02T12:00:00Z"),
    ("c2", "camera", "2026-11-04T12:00:00Z"),
    ("c2", "tripod", "2026-11-20T12:00:00Z"),
    ("c3", "bag", "2026-11-05T08:00:00Z"),
    ("c3", "camera", "2026-11-05T08:01:00Z"),
    ("c3", "lens", "2026-11-06T08:00:00Z"),
    ("c4", "camera", "2026-11-07T08:00:00Z"),
    ("c4", "camera", "2026-11-08T08:00:00Z"),
    ("c4", "bag", "2026-11-09T08:00:00Z"),
    # Outside c2's window of 30 days from the camera: no pair with it.
    ("c2", "film", "2026-12-30T12:00:00Z"),
]
CAMERA = [("bag", 3), ("lens", 3), ("tripod", 1)]


def _messages() -> list[dict]:
    messages = []
    for n, (customer, product, at) in enumerate(HISTORY):
        body = {
            "purchase_id": f"p{n}",
            "customer_id": customer,
            "product_id": product,
            "quantity": 1,
            "unit_price": "10.00",
            "currency": "EUR",
            "purchased_at": at,
        }
        messages.append(sqs_message(body, n, "purchases"))
    return messages


@pytest.fixture
def shop(aws, monkeypatch, lambda_context):
    create_pk_table(PURCHASES, sort_key=False)
    create_pk_table(AGGREGATES)
    monkeypatch.setenv("PURCHASES_TABLE", PURCHASES)
    monkeypatch.setenv("AGGREGATES_TABLE", AGGREGATES)
    queue = boto3.client("sqs").create_queue(QueueName="purchases-dlq")["QueueUrl"]
    monkeypatch.setenv("REJECTED_QUEUE_URL", queue)
    processor = load_handler("purchase_processor")
    api = load_handler("recommendations_api")

    def deliver(messages: list[dict]) -> None:
        result = processor.handler({"Records": messages}, lambda_context)
        assert result == {"batchItemFailures": []}

    def get(product: str, **query: str) -> tuple[int, dict]:
        event = {"pathParameters": {"id": product}, "queryStringParameters": query or None}
        response = api.handler(event, lambda_context)
        return response["statusCode"], json.loads(response["body"])

    return deliver, get


def _pairs(body: dict) -> list[tuple[str, int]]:
    return [(r["product_id"], r["score"]) for r in body["recommendations"]]


def test_recommendations_rank_what_the_same_customers_bought_highest_first(shop):
    deliver, get = shop
    deliver(_messages())

    status, body = get("camera")

    assert status == 200 and body["product_id"] == "camera"
    assert _pairs(body) == CAMERA
    assert _pairs(get("camera", limit="2")[1]) == CAMERA[:2]
    assert ("film", 1) not in _pairs(get("tripod")[1]) and get("film")[1]["recommendations"] == []


def test_a_customers_own_purchases_are_left_out_when_asked(shop):
    deliver, get = shop
    deliver(_messages())

    # c2 bought lens and tripod (and film): only bag is left for them
    assert _pairs(get("camera", customer_id="c2")[1]) == [("bag", 3)]
    assert _pairs(get("camera", customer_id="nobody")[1]) == CAMERA


def test_replays_and_duplicate_deliveries_leave_the_answer_unchanged(shop):
    deliver, get = shop
    messages = _messages()
    deliver(messages)
    before = get("camera")[1]

    # SQS delivers again, in another order, some twice in one batch
    deliver(list(reversed(messages)))
    deliver(messages[:5] + messages[:5])

    assert get("camera")[1] == before


@pytest.mark.parametrize(
    ("product", "query", "message"),
    [
        ("camera", {"limit": "0"}, "limit must be a whole number from 1 to 50"),
        ("camera", {"limit": "51"}, "limit must be a whole number from 1 to 50"),
        ("camera", {"limit": "ten"}, "limit must be a whole number from 1 to 50"),
        ("x" * 2100, {}, "the product id in the path is not a storable id"),
        ("\ud800", {}, "the product id in the path is not a storable id"),
        ("camera", {"customer_id": "c" * 1100}, "customer_id is not a storable id"),
    ],
)
def test_a_bad_request_answers_400_with_its_reason(shop, product, query, message):
    _, get = shop
    status, body = get(product, **query)
    assert (status, body) == (400, {"message": message})
