"""SNS -> SQS -> purchases: store each purchase once and update product and customer aggregates with it.

Environment (set by the construct; defaults in brackets):

- ``PURCHASES_TABLE`` (required): keyed ``pk`` (S) = purchase id.
- ``AGGREGATES_TABLE`` (required): keyed ``pk`` (S) + ``sk`` (S); items in ``purchase_records``.
- ``REJECTED_QUEUE_URL`` (required): where invalid messages go, once (the queue's dead-letter queue).
- ``METRICS_NAMESPACE`` [``LambdaPatterns``], ``SERVICE_NAME`` [``purchases``].

Exactly once: the purchase ``Put`` (``attribute_not_exists(pk)``) and every aggregate ``ADD`` go in ONE
TransactWriteItems, so a redelivered message either finds the purchase already there (the whole
transaction is cancelled, nothing is counted twice) or lands completely. A consistent read first finds
duplicates without a transaction and tells whether the customer is a new buyer of the product and whether
this purchase is their latest; the transaction's conditions re-check both, and a concurrent purchase that
changed them makes the handler re-read and rebuild (up to 4 times).

Invalid input is rejected once, never retried: a message that is not a purchase (not JSON, bad
quantity/price/currency/timestamp, an id DynamoDB could never store as a key: over its key sizes or not
valid UTF-8) is logged with its reason, counted (``InvalidPurchases``) and sent, body untouched, to
``REJECTED_QUEUE_URL`` with message attributes ``rejection_reason``, ``source_message_id`` and
``source_queue_arn``; then it is deleted like a processed one. Redelivering it could never succeed, and a
DLQ redrive can still replay it if the validation itself was wrong. Duplicate deliveries of one invalid
message carry the same ``source_message_id`` (on a FIFO dead-letter queue it is also the deduplication
id). Only if that queue refuses it is the message reported, so nothing is dropped.

Failures, reported per message in ``batchItemFailures`` (SQS ``messageId``) so the rest of the batch is
deleted: a *failed* write (throttling after botocore's retries, persistent conflicts) succeeds on a later
receive. On a FIFO queue every message after the first failure is reported too, preserving order within
message groups.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import log_context
from lambda_common.batch import batch_response
from lambda_common.coldstart import freeze_init_objects
from lambda_common.dynamo import from_dynamodb_json, to_dynamodb_json
from lambda_common.env import required, telemetry
from purchase_records import (
    InvalidPurchase,
    Observed,
    Purchase,
    buyer_key,
    customer_key,
    parse_purchase,
    purchase_key,
    transaction,
)

freeze_init_objects()

ATTEMPTS = 4

logger, metrics = telemetry("purchases")
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
PURCHASES_TABLE, AGGREGATES_TABLE, REJECTED_QUEUE_URL = required(
    "PURCHASES_TABLE", "AGGREGATES_TABLE", "REJECTED_QUEUE_URL"
)
freeze_init_objects()


class WriteConflict(RuntimeError):
    """Concurrent purchases kept invalidating the transaction's assumptions."""


def observe(client: Any, p: Purchase, purchases_table: str, aggregates_table: str) -> Observed | None:
    """One consistent BatchGetItem: None if the purchase is stored, else what the transaction needs."""
    request = {
        purchases_table: {"Keys": [to_dynamodb_json(purchase_key(p))], "ConsistentRead": True},
        aggregates_table: {
            "Keys": [to_dynamodb_json(buyer_key(p)), to_dynamodb_json(customer_key(p))],
            "ConsistentRead": True,
        },
    }
    found: dict[tuple[str, str | None], dict] = {}
    for _ in range(ATTEMPTS):
        response = client.batch_get_item(RequestItems=request)
        for items in response.get("Responses", {}).values():
            for raw in items:
                item = from_dynamodb_json(raw)
                found[(item["pk"], item.get("sk"))] = item
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
    if request:
        raise WriteConflict("BatchGetItem kept leaving keys unprocessed")
    if (p.purchase_id, None) in found:
        return None
    buyer = buyer_key(p)
    customer = found.get(tuple(customer_key(p).values()), {})
    return Observed(
        buyer_known=(buyer["pk"], buyer["sk"]) in found,
        last_purchase_at=customer.get("last_purchase_at"),
        recent=dict(customer.get("recent") or {}),
        recent_version=int(customer.get("recent_version") or 0),
    )


def record_purchase(client: Any, p: Purchase, purchases_table: str, aggregates_table: str) -> str:
    """Store the purchase and its aggregates once. Returns ``recorded`` or ``duplicate``."""
    for _ in range(ATTEMPTS):
        observed = observe(client, p, purchases_table, aggregates_table)
        if observed is None:
            return "duplicate"
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            client.transact_write_items(
                TransactItems=transaction(p, observed, purchases_table, aggregates_table, now)
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if code == "TransactionCanceledException" and reasons[:1] == ["ConditionalCheckFailed"]:
                return "duplicate"
            if code == "TransactionCanceledException" and {
                "ConditionalCheckFailed",
                "TransactionConflict",
            } & set(reasons):
                continue
            if code == "TransactionConflictException":
                continue
            raise
        return "recorded"
    raise WriteConflict(f"purchase {p.purchase_id}: aggregates kept changing under {ATTEMPTS} attempts")


def reject(client: Any, queue_url: str, message: dict[str, Any], reason: str) -> bool:
    """Move an invalid message to the rejected-messages queue; False if the queue did not take it."""
    attributes = {
        "rejection_reason": reason[:1024],
        "source_message_id": str(message.get("messageId")),
        "source_queue_arn": str(message.get("eventSourceARN")),
    }
    request: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MessageBody": message.get("body") or "(empty body)",
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    }
    if queue_url.endswith(".fifo"):
        group = (message.get("attributes") or {}).get("MessageGroupId") or "rejected"
        request.update(MessageGroupId=group, MessageDeduplicationId=str(message.get("messageId"))[:128])
    try:
        client.send_message(**request)
    except (ClientError, BotoCoreError) as error:
        logger.error("rejected-message queue refused a message", extra={"fields": {"error": str(error)}})
        return False
    return True


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Record every purchase in the batch; report invalid and failed messages by messageId."""
    with log_context(context):
        failures: list[str] = []
        outcomes = {"recorded": 0, "duplicate": 0, "invalid": 0, "failed": 0, "unrejected": 0}
        for message in event.get("Records") or []:
            message_id = message.get("messageId")
            fifo = str(message.get("eventSourceARN", "")).endswith(".fifo")
            if failures and fifo:
                # A later message of the same group must not overtake one that will be redelivered.
                failures.append(message_id)
                continue
            fields = {
                "message_id": message_id,
                "receive_count": (message.get("attributes") or {}).get("ApproximateReceiveCount"),
            }
            try:
                purchase = parse_purchase(message.get("body", ""))
            except InvalidPurchase as error:
                logger.error("invalid purchase message", extra={"fields": {**fields, "reason": str(error)}})
                outcomes["invalid"] += 1
                if not reject(sqs, REJECTED_QUEUE_URL, message, str(error)):
                    outcomes["unrejected"] += 1
                    failures.append(message_id)
                continue
            fields["purchase_id"] = purchase.purchase_id
            try:
                outcome = record_purchase(dynamodb, purchase, PURCHASES_TABLE, AGGREGATES_TABLE)
            except (ClientError, BotoCoreError, WriteConflict) as error:
                logger.error("recording purchase failed", extra={"fields": {**fields, "error": str(error)}})
                outcomes["failed"] += 1
                failures.append(message_id)
                continue
            outcomes[outcome] += 1
            logger.info(f"purchase {outcome}", extra={"fields": fields})
        metrics.add("PurchasesRecorded", outcomes["recorded"])
        metrics.add("DuplicatePurchases", outcomes["duplicate"])
        metrics.add("InvalidPurchases", outcomes["invalid"])
        metrics.add("RejectionsNotDelivered", outcomes["unrejected"])
        metrics.add("PurchaseWriteFailures", outcomes["failed"])
        metrics.flush()
        return batch_response(failures)
