"""``GET /products/{id}/recommendations?limit=N[&customer_id=C]``: the products most often bought with a
product by the same customers, from the purchase processor's co-purchase counts.

Environment (set by the construct; defaults in brackets):

- ``AGGREGATES_TABLE`` (required): the purchase processor's aggregates table (``pk`` S + ``sk`` S).
- ``DEFAULT_LIMIT`` [10], ``MAX_LIMIT`` [50]: recommendations without ``limit``, and the most accepted.
- ``SERVICE_NAME`` [``recommendations``].

Reads: one paginated Query of ``related#<id>`` (at most ``MAX_RANKED`` pairs), and with ``customer_id`` a
BatchGetItem of that customer's buyer markers (``product#<other>`` / ``buyer#<customer>``)
for the best candidates, in order, until ``limit`` products they have not bought are found. A bad id,
``limit`` or ``customer_id`` answers 400 (logged, counted ``BadRequests``); a DynamoDB failure raises, so API
Gateway answers 502 and the error is in the function's metrics.
"""

from __future__ import annotations

from typing import Any

import boto3
from lambda_common.coldstart import freeze_init_objects
from lambda_common.dynamo import from_dynamodb_json, to_dynamodb_json
from lambda_common.env import integer, required, telemetry
from recommendations import MAX_RANKED, BadRequest, Request, answer, parse_request, rank, response

freeze_init_objects()

BATCH_KEYS = 100
ATTEMPTS = 4

logger, metrics = telemetry("recommendations")
dynamodb = boto3.client("dynamodb")
(TABLE,) = required("AGGREGATES_TABLE")
DEFAULT_LIMIT = integer("DEFAULT_LIMIT", 10, at_least=1)
MAX_LIMIT = integer("MAX_LIMIT", 50, at_least=1)
freeze_init_objects()


def query_pairs(client: Any, table: str, product_id: str) -> list[dict[str, Any]]:
    """The product's pair items, at most ``MAX_RANKED``."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": to_dynamodb_json({":pk": f"related#{product_id}"}),
    }
    while len(items) < MAX_RANKED:
        page = client.query(**request, Limit=MAX_RANKED - len(items))
        items += [from_dynamodb_json(raw) for raw in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def bought(client: Any, table: str, customer_id: str, products: list[str]) -> set[str]:
    """Which of ``products`` the customer has bought (their buyer marker exists)."""
    found: set[str] = set()
    keys = [to_dynamodb_json({"pk": f"product#{p}", "sk": f"buyer#{customer_id}"}) for p in products]
    pending = {table: {"Keys": keys, "ProjectionExpression": "pk"}} if keys else {}
    for _ in range(ATTEMPTS):
        if not pending:
            break
        result = client.batch_get_item(RequestItems=pending)
        for raw in result.get("Responses", {}).get(table, []):
            found.add(from_dynamodb_json(raw)["pk"].removeprefix("product#"))
        pending = result.get("UnprocessedKeys") or {}
    if pending:
        raise RuntimeError("BatchGetItem kept leaving keys unprocessed")
    return found


def not_bought(
    client: Any, table: str, request: Request, ranked: list[tuple[str, int]]
) -> list[tuple[str, int]]:
    """``ranked`` without what ``request.customer_id`` bought, looked up in chunks until ``limit`` remain."""
    kept: list[tuple[str, int]] = []
    for start in range(0, len(ranked), BATCH_KEYS):
        chunk = ranked[start : start + BATCH_KEYS]
        owned = bought(client, table, str(request.customer_id), [other for other, _ in chunk])
        kept += [pair for pair in chunk if pair[0] not in owned]
        if len(kept) >= request.limit:
            break
    return kept


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy integration entry point."""
    try:
        request = parse_request(event, DEFAULT_LIMIT, MAX_LIMIT)
    except BadRequest as error:
        logger.warning("bad request: %s", error)
        metrics.add("BadRequests", 1)
        metrics.flush()
        return response(400, {"message": str(error)})
    ranked = rank(query_pairs(dynamodb, TABLE, request.product_id), request.product_id)
    if request.customer_id is not None:
        ranked = not_bought(dynamodb, TABLE, request, ranked)
    metrics.add("Recommendations", 1)
    metrics.flush()
    return answer(request, ranked)
