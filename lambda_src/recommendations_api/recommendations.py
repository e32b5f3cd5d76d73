"""Pure core of the recommendations API: the request, the ranking, and the response. No AWS calls.

Pairs come from the purchase processor's aggregates table (``related#<product>`` / ``<other>``: ``score``,
the number of customers who bought both within its window). A product's pairs are ranked by score, highest
first, ties by product id so the answer is stable; at most ``MAX_RANKED`` pairs are read per request (one
product bought with more than 1,000 distinct others is ranked on the first 1,000 in key order).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lambda_common.dynamo import key_problem

MAX_RANKED = 1000
_DIGITS = re.compile(r"^[0-9]{1,4}$")


class BadRequest(ValueError):
    """A request the API answers 400 to; retrying it cannot help."""


@dataclass(frozen=True)
class Request:
    """A validated ``GET /products/{id}/recommendations``."""

    product_id: str
    limit: int
    customer_id: str | None


def parse_request(event: Mapping[str, Any], default_limit: int, max_limit: int) -> Request:
    """The request in an API Gateway proxy event (payload 1.0 or 2.0), or BadRequest."""
    product_id = (event.get("pathParameters") or {}).get("id")
    query = event.get("queryStringParameters") or {}
    if not isinstance(product_id, str) or key_problem({"pk": f"related#{product_id}"}):
        raise BadRequest("the product id in the path is not a storable id")
    raw_limit = query.get("limit")
    if raw_limit is None:
        limit = default_limit
    elif not _DIGITS.match(raw_limit) or not 1 <= int(raw_limit) <= max_limit:
        raise BadRequest(f"limit must be a whole number from 1 to {max_limit}")
    else:
        limit = int(raw_limit)
    customer_id = query.get("customer_id")
    if customer_id is not None and key_problem(
        {"pk": f"product#{product_id}", "sk": f"buyer#{customer_id}"}, sort_key="sk"
    ):
        raise BadRequest("customer_id is not a storable id")
    return Request(product_id, limit, customer_id)


def rank(pairs: Iterable[Mapping[str, Any]], product_id: str) -> list[tuple[str, int]]:
    """``(other product, score)`` from the pair items, highest score first, never the product itself."""
    scored = [
        (str(item["sk"]), int(Decimal(item.get("score", 0))))
        for item in pairs
        if item.get("sk") != product_id and Decimal(item.get("score", 0)) > 0
    ]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


def response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """A proxy-integration response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def answer(request: Request, ranked: list[tuple[str, int]]) -> dict[str, Any]:
    """The 200 response for ``request``: its top ``limit`` of ``ranked``."""
    top = [{"product_id": other, "score": score} for other, score in ranked[: request.limit]]
    return response(200, {"product_id": request.product_id, "recommendations": top})
