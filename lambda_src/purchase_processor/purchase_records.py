"""Pure core of the purchase processor: SQS body -> validated Purchase -> one DynamoDB transaction.

Items written (``pk`` S + ``sk`` S in the aggregates table; ``pk`` S alone in the purchases table):

- purchases table: ``pk = <purchase_id>``, the purchase as received plus ``amount`` (quantity x unit price).
- aggregates ``product#<id>`` / ``totals``: ``purchases``, ``units_sold``, ``revenue_<CUR>``, ``buyers``.
- aggregates ``product#<id>`` / ``buyer#<customer>``: one per distinct buyer, so ``buyers`` counts people,
  not purchases (and a product's buyers are one Query away).
- aggregates ``customer#<id>`` / ``totals``: ``purchases``, ``spend_<CUR>``, ``last_purchase_at``,
  ``last_purchase_id``, ``recent`` and ``recent_version`` (``co_purchases``).
- aggregates ``related#<id>`` / ``<other id>``: ``score``, the co-purchase count (``co_purchases``).

Money is Decimal end to end (JSON numbers are parsed as Decimal, never float). Revenue and spend are kept
per currency: amounts in different currencies cannot be added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from co_purchases import co_products, next_recent, pair_updates
from lambda_common.dynamo import MAX_DIGITS, key_problem, number_fits, to_dynamodb_json, valid_utf8
from lambda_common.parsing import parse_json
from lambda_common.timestamps import utc_datetime

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_ID = 256
MAX_QUANTITY = 1_000_000
# Exact for any price DynamoDB can hold (38 digits) times any quantity (7 digits); the default context's
# 28 digits would round the amount silently.
_EXACT = Context(prec=MAX_DIGITS + 7, Emax=999_999, Emin=-999_999)


class InvalidPurchase(ValueError):
    """A message that is not a valid purchase; redelivery cannot fix it."""


@dataclass(frozen=True)
class Purchase:
    """A validated purchase."""

    purchase_id: str
    customer_id: str
    product_id: str
    quantity: int
    unit_price: Decimal
    currency: str
    purchased_at: str  # UTC, fixed width (milliseconds), so string order is time order
    sns_message_id: str | None = None

    @property
    def amount(self) -> Decimal:
        """Quantity times unit price, computed exactly."""
        return _EXACT.multiply(self.unit_price, Decimal(self.quantity))


def unwrap(body: str) -> tuple[dict[str, Any], str | None]:
    """The purchase JSON object from an SQS body: an SNS envelope, or the message itself (raw delivery)."""
    try:
        outer = parse_json(body, parse_float=Decimal)
    except ValueError:
        raise InvalidPurchase("body is not JSON") from None
    message_id = None
    if isinstance(outer, dict) and outer.get("Type") == "Notification" and "Message" in outer:
        message_id = outer.get("MessageId")
        if not isinstance(outer["Message"], str):
            raise InvalidPurchase("SNS Message is not a string")
        try:
            outer = parse_json(outer["Message"], parse_float=Decimal)
        except ValueError:
            raise InvalidPurchase("SNS Message is not JSON") from None
    if not isinstance(outer, dict):
        raise InvalidPurchase("purchase is not a JSON object")
    return outer, message_id


def _identifier(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_ID:
        raise InvalidPurchase(f"{name} must be a non-empty string of at most {_MAX_ID} characters")
    if not valid_utf8(value):
        # JSON's "\ud800" escapes decode to lone surrogates, which DynamoDB refuses on every attempt.
        raise InvalidPurchase(f"{name} is not valid UTF-8 (a lone surrogate)")
    return value.strip()


def _quantity(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, Decimal)):
        raise InvalidPurchase("quantity must be a whole number")
    if isinstance(raw, Decimal) and raw != raw.to_integral_value():
        raise InvalidPurchase("quantity must be a whole number")
    quantity = int(raw)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidPurchase(f"quantity must be between 1 and {MAX_QUANTITY}")
    return quantity


def _price(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, str, Decimal)):
        raise InvalidPurchase("unit_price must be a decimal string or number")
    try:
        price = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except InvalidOperation:
        raise InvalidPurchase("unit_price is not a decimal number") from None
    if not price.is_finite() or price < 0:
        raise InvalidPurchase("unit_price must be a finite, non-negative number")
    if not number_fits(price):
        raise InvalidPurchase(
            f"unit_price needs more than {MAX_DIGITS} significant digits or is outside the storable range"
        )
    return price


def _timestamp(raw: Any) -> str:
    try:
        when = utc_datetime(raw, naive_is_utc=False, epoch=False)
    except ValueError as error:
        raise InvalidPurchase(f"purchased_at {error}") from None
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_purchase(body: str) -> Purchase:
    """Validate an SQS message body (SNS envelope or raw) into a Purchase, or raise InvalidPurchase."""
    data, message_id = unwrap(body)
    currency = data.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise InvalidPurchase("currency must be a three-letter upper-case ISO 4217 code")
    purchase = Purchase(
        purchase_id=_identifier(data, "purchase_id"),
        customer_id=_identifier(data, "customer_id"),
        product_id=_identifier(data, "product_id"),
        quantity=_quantity(data.get("quantity")),
        unit_price=_price(data.get("unit_price")),
        currency=currency,
        purchased_at=_timestamp(data.get("purchased_at")),
        sns_message_id=message_id,
    )
    # 256 four-byte characters pass the character limit and still make a key DynamoDB refuses every time.
    for key in (purchase_key(purchase), product_key(purchase), buyer_key(purchase), customer_key(purchase)):
        problem = key_problem(key, sort_key="sk")
        if problem:
            raise InvalidPurchase(f"{problem} (from purchase_id, product_id or customer_id)")
    if not number_fits(purchase.amount):
        raise InvalidPurchase(
            f"unit_price x quantity needs more than {MAX_DIGITS} significant digits or is outside the "
            "storable range"
        )
    return purchase


def purchase_key(p: Purchase) -> dict[str, str]:
    return {"pk": p.purchase_id}


def product_key(p: Purchase) -> dict[str, str]:
    return {"pk": f"product#{p.product_id}", "sk": "totals"}


def buyer_key(p: Purchase) -> dict[str, str]:
    return {"pk": f"product#{p.product_id}", "sk": f"buyer#{p.customer_id}"}


def customer_key(p: Purchase) -> dict[str, str]:
    return {"pk": f"customer#{p.customer_id}", "sk": "totals"}


@dataclass(frozen=True)
class Observed:
    """What a consistent read found before the transaction: it decides the buyer and last-purchase parts."""

    buyer_known: bool
    last_purchase_at: str | None
    recent: dict[str, str] = field(default_factory=dict)
    recent_version: int = 0


def _update(table: str, key: dict, expression: str, values: dict, names: dict | None = None, condition=None):
    update: dict[str, Any] = {
        "TableName": table,
        "Key": to_dynamodb_json(key),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": to_dynamodb_json(values),
    }
    if names:
        update["ExpressionAttributeNames"] = names
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def transaction(
    p: Purchase, observed: Observed, purchases_table: str, aggregates_table: str, now: str
) -> list:
    """The TransactWriteItems list. Item 0 is the purchase put; its condition failing means a duplicate.

    Every other condition encodes an assumption from ``observed``; if a concurrent purchase broke it, the
    transaction is cancelled as a whole and the caller re-reads and rebuilds it.
    """
    item = {
        "pk": p.purchase_id,
        "purchase_id": p.purchase_id,
        "customer_id": p.customer_id,
        "product_id": p.product_id,
        "quantity": p.quantity,
        "unit_price": p.unit_price,
        "amount": p.amount,
        "currency": p.currency,
        "purchased_at": p.purchased_at,
        "recorded_at": now,
    }
    if p.sns_message_id:
        item["sns_message_id"] = p.sns_message_id
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": purchases_table,
                "Item": to_dynamodb_json(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    new_buyer = not observed.buyer_known
    product_adds = "ADD purchases :one, units_sold :quantity, #revenue :amount" + (
        ", buyers :one" if new_buyer else ""
    )
    items.append(
        _update(
            aggregates_table,
            product_key(p),
            f"{product_adds} SET product_id = :product",
            {":one": 1, ":quantity": p.quantity, ":amount": p.amount, ":product": p.product_id},
            {"#revenue": f"revenue_{p.currency}"},
        )
    )
    if new_buyer:
        marker = {
            **buyer_key(p),
            "customer_id": p.customer_id,
            "first_purchase_at": p.purchased_at,
            "purchases": 1,
        }
        items.append(
            {
                "Put": {
                    "TableName": aggregates_table,
                    "Item": to_dynamodb_json(marker),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
    else:
        items.append(
            _update(
                aggregates_table,
                buyer_key(p),
                "ADD purchases :one",
                {":one": 1},
                condition="attribute_exists(pk)",
            )
        )
    newer = observed.last_purchase_at is None or p.purchased_at > observed.last_purchase_at
    customer_values: dict[str, Any] = {
        ":one": 1,
        ":amount": p.amount,
        ":customer": p.customer_id,
        ":recent": next_recent(p.product_id, p.purchased_at, observed.recent),
        ":next": observed.recent_version + 1,
    }
    expression = "ADD purchases :one, #spend :amount SET customer_id = :customer, recent = :recent, recent_version = :next"
    # The co-purchase pairs below were computed from the observed ``recent``: a concurrent purchase by the
    # same customer that changed it cancels the transaction, which is then rebuilt.
    if observed.recent_version:
        customer_values[":version"] = observed.recent_version
        conditions = ["recent_version = :version"]
    else:
        conditions = ["attribute_not_exists(recent_version)"]
    if newer:
        expression += ", last_purchase_at = :at, last_purchase_id = :id"
        customer_values.update({":at": p.purchased_at, ":id": p.purchase_id})
        conditions.append("(attribute_not_exists(last_purchase_at) OR last_purchase_at < :at)")
    condition = " AND ".join(conditions)
    items.append(
        _update(
            aggregates_table,
            customer_key(p),
            expression,
            customer_values,
            {"#spend": f"spend_{p.currency}"},
            condition,
        )
    )
    others = co_products(p.product_id, p.purchased_at, observed.recent)
    return items + pair_updates(p.product_id, others, aggregates_table, _update)
