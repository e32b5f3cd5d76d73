"""Kinesis click events -> per-minute counts per screen and event type (see ``clicks`` for the key design).

Environment (set by the construct; defaults in brackets):

- ``COUNTS_TABLE`` (required): table keyed ``pk`` (S) + ``sk`` (S). Items: ``pk = "screen#<screen>"``,
  ``sk = "<minute>#<event_type>"``; attributes ``count``, ``screen``, ``minute``, ``event_type``,
  ``seq#<shardId>`` (idempotency marks) and, with RETENTION_DAYS, ``expires_at`` (the table's TTL attribute).
- ``MALFORMED_QUEUE_URL`` (required): SQS queue receiving malformed records for inspection.
- ``RETENTION_DAYS`` [``0`` = forever]: ``expires_at`` = minute + this many days.
- ``WRITE_CONCURRENCY`` [``8``]; ``METRICS_NAMESPACE`` [``LambdaPatterns``];
  ``SERVICE_NAME`` [``clickstream``].

Malformed records (bad base64, bad JSON, missing or invalid fields) are sent by this function to
``MALFORMED_QUEUE_URL`` and skipped, logged and counted (``MalformedRecords``). Reporting them in
``batchItemFailures`` instead would stop the shard: Lambda would re-deliver from the malformed record,
bisect, and re-read every good record behind it for each retry, only to reach the on-failure destination
with the same bytes, because a record in a stream never changes. Only if the queue refuses a report is the
record put in ``batchItemFailures`` (nothing is ever dropped); the retry then tries the queue again.

Exactly once: one guarded ``UpdateItem`` (``ADD count``) per count item and shard per batch, the shard's
high-water mark of sequence numbers kept on the item (``lambda_common.dynamo``). A replayed, bisected or
partially re-sent batch lands once. The shard is read from ``eventID``; ParallelizationFactor must stay 1.
A count item whose write fails reports the records feeding it; the others are checkpointed.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from clicks import ClickPlan, CountKey, count_update, malformed_report, plan_clicks
from lambda_common import Metrics, get_logger, log_context
from lambda_common.dynamo import GuardConflict, GuardResult, guarded_update

SERVICE = os.environ.get("SERVICE_NAME", "clickstream")
logger = get_logger(SERVICE)
metrics = Metrics(service=SERVICE)
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
try:
    TABLE = os.environ["COUNTS_TABLE"]
    MALFORMED_QUEUE_URL = os.environ["MALFORMED_QUEUE_URL"]
except KeyError as missing:
    raise RuntimeError(f"{missing.args[0]} is required (see the module docstring)") from None
RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS", "0"))
CONCURRENCY = max(1, int(os.environ.get("WRITE_CONCURRENCY", "8")))


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
        )

    results: dict[tuple[CountKey, str], GuardResult] = {}
    errors: dict[tuple[CountKey, str], str] = {}
    groups = list(plan.entries)
    with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(groups)))) as pool:
        futures = {group: pool.submit(write, group) for group in groups}
        for group, future in futures.items():
            try:
                results[group] = future.result()
            except (ClientError, BotoCoreError, GuardConflict) as error:
                errors[group] = f"{type(error).__name__}: {error}"
    return results, errors


def quarantine(client: Any, queue_url: str, malformed: list[tuple[dict, str]]) -> list[str]:
    """Send malformed records to the inspection queue; returns the sequence numbers the queue refused."""
    refused: list[str] = []
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
        refused.extend(str((chunk[i][0].get("kinesis") or {}).get("sequenceNumber")) for i in failed_ids)
    return refused


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
        failed = set(quarantine(sqs, MALFORMED_QUEUE_URL, plan.malformed))
        results, errors = write_counts(dynamodb, TABLE, plan)
        for (key, shard), error in errors.items():
            logger.error(
                "count write failed", extra={"fields": {"key": key.item_key, "shard": shard, "error": error}}
            )
            failed.update(plan.sequences[(key, shard)])
        metrics.add("RecordsReceived", plan.records)
        metrics.add("MalformedRecords", len(plan.malformed))
        metrics.add("ClicksCounted", sum(r.applied for r in results.values()))
        metrics.add("ClicksAlreadyCounted", sum(r.skipped for r in results.values()))
        metrics.add("CountWrites", sum(r.writes for r in results.values()))
        metrics.add("CountWriteFailures", len(errors))
        metrics.flush()
        ordered = sorted(failed, key=lambda s: (len(s), s))
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in ordered]}
