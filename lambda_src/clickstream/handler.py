"""Kinesis click events -> per-minute counts per screen and event type (see ``clicks`` for the key design).

Environment (set by the construct; defaults in brackets):

- ``COUNTS_TABLE`` (required): table keyed ``pk`` (S) + ``sk`` (S). Items: ``pk = "screen#<screen>"``,
  ``sk = "<minute>#<event_type>"``; attributes ``count``, ``screen``, ``minute``, ``event_type`` and, with
  RETENTION_DAYS, ``expires_at`` (the table's TTL attribute). Idempotency marks are items of their own
  (partition key ``mark#...``, see ``lambda_common.dynamo``) that expire by the same attribute.
- ``MALFORMED_QUEUE_URL`` (required): SQS queue receiving malformed records for inspection.
- ``RETENTION_DAYS`` [``0`` = forever]: ``expires_at`` = minute + this many days.
- ``MARK_TTL_SECONDS`` [``172800``]: how long a shard's marks outlive their last write (the stream's
  retention plus a day; the construct sets it from the stream).
- ``WRITE_CONCURRENCY`` [``8``]; ``METRICS_NAMESPACE`` [``LambdaPatterns``];
  ``SERVICE_NAME`` [``clickstream``].

Malformed records (bad base64, bad JSON, missing or invalid fields) are sent by this function to
``MALFORMED_QUEUE_URL`` and skipped, logged and counted (``MalformedRecords``). Reporting them in
``batchItemFailures`` instead would stop the shard: Lambda would re-deliver from the malformed record,
bisect, and re-read every good record behind it for each retry, only to reach the on-failure destination
with the same bytes, because a record in a stream never changes. Only if the queue refuses a report is the
record put in ``batchItemFailures`` (nothing is ever dropped); the retry then tries the queue again. A
click DynamoDB would refuse on every attempt (a sort key over 1,024 bytes, a lone surrogate) is malformed.

Quarantine once: each report carries ``quarantine_id`` (``<stream ARN>/<shard>/<sequence number>``, the
same for every delivery of the record), and a per-shard quarantine mark (an item in the counts table) holds
the highest sequence number up to which every malformed record was reported, so a replayed or re-sent batch
does not report them again (``MalformedAlreadyQuarantined``). Only a failure between the send and the
mark's write (a crash, or that write throttled) repeats a report; a reader de-duplicates on
``quarantine_id``.

Exactly once: one guarded ``UpdateItem`` (``ADD count``) per count item and shard per batch, the shard's
high-water mark of sequence numbers kept on the item (``lambda_common.dynamo``). A replayed, bisected or
partially re-sent batch lands once. The shard is read from ``eventID``; ParallelizationFactor must stay 1.
A count item whose write fails reports the records feeding it; the others are checkpointed.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from clicks import ClickPlan, CountKey, count_update, malformed_report, plan_clicks, position
from lambda_common import log_context
from lambda_common.batch import batch_response
from lambda_common.coldstart import freeze_init_objects
from lambda_common.dynamo import from_dynamodb_json, to_dynamodb_json
from lambda_common.env import integer, required, telemetry
from lambda_common.marks import (
    DEFAULT_MARK_TTL_SECONDS,
    GuardConflict,
    GuardResult,
    UpdatePlan,
    guarded_update,
    mark_key,
)
from lambda_common.parallel import write_each

freeze_init_objects()

#: The aggregate a shard's quarantine mark belongs to (see ``quarantine_mark``).
QUARANTINE = {"pk": "quarantine", "sk": "malformed"}

logger, metrics = telemetry("clickstream")
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
TABLE, MALFORMED_QUEUE_URL = required("COUNTS_TABLE", "MALFORMED_QUEUE_URL")
RETENTION_DAYS = integer("RETENTION_DAYS", 0)
CONCURRENCY = integer("WRITE_CONCURRENCY", 8, at_least=1)
MARK_TTL_SECONDS = integer("MARK_TTL_SECONDS", DEFAULT_MARK_TTL_SECONDS)
freeze_init_objects()


def write_counts(
    client: Any,
    table: str,
    plan: ClickPlan,
    retention_days: int = RETENTION_DAYS,
    concurrency: int = CONCURRENCY,
) -> tuple[dict[tuple[CountKey, str], GuardResult], dict[tuple[CountKey, str], str]]:
    """One guarded ``ADD`` per count item and shard. Returns results and per-item errors."""

    def write(group: tuple[CountKey, str]) -> GuardResult:
        key, shard = group
        return guarded_update(
            client,
            table=table,
            key=key.item_key,
            lane=shard,
            entries=plan.entries[group],
            plan=lambda pending, _observed: count_update(pending, key, retention_days),
            mark_ttl_seconds=MARK_TTL_SECONDS,
        )

    return write_each(
        list(plan.entries),
        write,
        concurrency=concurrency,
        retryable=(ClientError, BotoCoreError, GuardConflict),
    )


def send_reports(client: Any, queue_url: str, malformed: list[tuple[dict, str]]) -> set[int]:
    """Send reports of malformed records, ten per request; returns the indexes the queue refused."""
    refused: set[int] = set()
    for start in range(0, len(malformed), 10):
        chunk = malformed[start : start + 10]
        entries = [
            {"Id": str(index), "MessageBody": malformed_report(record, reason)}
            for index, (record, reason) in enumerate(chunk)
        ]
        try:
            response = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed_ids = [int(failure["Id"]) for failure in response.get("Failed", [])]
        except (ClientError, BotoCoreError) as error:
            logger.error("malformed-record queue unavailable", extra={"fields": {"error": str(error)}})
            failed_ids = list(range(len(chunk)))
        refused.update(start + i for i in failed_ids)
    return refused


def quarantine_mark(client: Any, table: str, shard: str) -> str | None:
    """The shard's quarantine mark; None when absent or unreadable (then reports may repeat, never vanish)."""
    try:
        item = client.get_item(
            TableName=table, Key=to_dynamodb_json(mark_key(QUARANTINE, shard)), ConsistentRead=True
        ).get("Item")
    except (ClientError, BotoCoreError) as error:
        logger.warning("quarantine mark unreadable", extra={"fields": {"shard": shard, "error": str(error)}})
        return None
    return from_dynamodb_json(item).get("seq") if item else None


def move_quarantine_mark(client: Any, table: str, shard: str, sequence: str) -> None:
    """Raise the shard's quarantine mark to ``sequence`` (never lower it)."""
    update = UpdatePlan(
        set={"seq": sequence, "lane": shard, "expires_at": int(time.time()) + MARK_TTL_SECONDS},
        guards=[("seq", "<", sequence)],
    )
    try:
        client.update_item(**update.request(table, mark_key(QUARANTINE, shard)))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            logger.warning(
                "quarantine mark not moved", extra={"fields": {"shard": shard, "error": str(error)}}
            )
    except BotoCoreError as error:
        logger.warning("quarantine mark not moved", extra={"fields": {"shard": shard, "error": str(error)}})


def quarantine(
    sqs_client: Any, dynamodb_client: Any, table: str, queue_url: str, malformed: list[tuple[dict, str]]
) -> tuple[list[str], int]:
    """Report malformed records not reported before; returns the sequence numbers to retry (the queue
    refused them) and how many were skipped as already reported."""
    by_shard: dict[str, list[tuple[str, dict, str]]] = {}
    unplaced: list[tuple[dict, str]] = []
    for record, reason in malformed:
        try:
            where = position(record)
        except ValueError:
            unplaced.append((record, reason))  # no sequence number: nothing to de-duplicate against
            continue
        by_shard.setdefault(where.shard, []).append((where.padded, record, reason))
    retry: list[str] = []
    skipped = 0
    refused = send_reports(sqs_client, queue_url, unplaced)
    retry.extend(str((unplaced[i][0].get("kinesis") or {}).get("sequenceNumber")) for i in sorted(refused))
    for shard, entries in by_shard.items():
        entries.sort(key=lambda entry: entry[0])
        mark = quarantine_mark(dynamodb_client, table, shard)
        todo = [entry for entry in entries if mark is None or entry[0] > mark]
        skipped += len(entries) - len(todo)
        refused = send_reports(sqs_client, queue_url, [(record, reason) for _, record, reason in todo])
        retry.extend(str((todo[i][1].get("kinesis") or {}).get("sequenceNumber")) for i in sorted(refused))
        # The mark may only cover a prefix that was reported in full: a refused record below a reported
        # one is retried, and must not be skipped then.
        reported = [entry[0] for entry in todo[: min(refused, default=len(todo))]]
        if reported:
            move_quarantine_mark(dynamodb_client, table, shard, reported[-1])
    return retry, skipped


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Count the batch's clicks; quarantine malformed records; report only what must be retried."""
    with log_context(context):
        plan = plan_clicks(event.get("Records") or [])
        for record, reason in plan.malformed:
            kinesis = record.get("kinesis") or {}
            logger.warning(
                "malformed click record",
                extra={"fields": {"sequence_number": kinesis.get("sequenceNumber"), "reason": reason}},
            )
        retry, already = quarantine(sqs, dynamodb, TABLE, MALFORMED_QUEUE_URL, plan.malformed)
        failed = set(retry)
        results, errors = write_counts(dynamodb, TABLE, plan)
        for (key, shard), error in errors.items():
            logger.error(
                "count write failed", extra={"fields": {"key": key.item_key, "shard": shard, "error": error}}
            )
            failed.update(plan.sequences[(key, shard)])
        metrics.add("RecordsReceived", plan.records)
        metrics.add("DuplicateRecords", plan.duplicates)
        metrics.add("MalformedRecords", len(plan.malformed))
        metrics.add("MalformedAlreadyQuarantined", already)
        metrics.add("ClicksCounted", sum(r.applied for r in results.values()))
        metrics.add("ClicksAlreadyCounted", sum(r.skipped for r in results.values()))
        metrics.add("CountWrites", sum(r.writes for r in results.values()))
        metrics.add("CountWriteFailures", len(errors))
        metrics.flush()
        return batch_response(failed, sequence_numbers=True)
