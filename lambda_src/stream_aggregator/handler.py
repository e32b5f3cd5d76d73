"""DynamoDB stream (NEW_AND_OLD_IMAGES) -> running aggregates per dimension value and time bucket.

Environment (set by the construct; defaults in brackets):

- ``AGGREGATES_TABLE`` (required): table keyed ``pk`` (S) + ``sk`` (S). Items: ``pk = "<dimension>#<value>"``,
  ``sk = "<bucket>#<bucket start ISO UTC>"`` (e.g. ``category#books`` / ``hour#2026-11-28T12:00:00Z``), so
  "one series over a time range" is a single Query with ``sk BETWEEN``. Attributes: ``count``, ``sum``,
  ``min``, ``max``, ``dimension``, ``dimension_value``, ``bucket``, ``bucket_start``, ``updated_at`` and,
  with RETENTION_DAYS, ``expires_at`` (the table's TTL attribute). Idempotency marks are items of their own
  beside each aggregate (partition key ``mark#...``, see ``lambda_common.dynamo``), expiring by the same TTL
  attribute.
- ``DIMENSIONS`` (required): comma list of attribute names; each gets its own series (a row with
  ``category`` and ``region`` feeds ``category#books`` and ``region#eu``).
- ``VALUE_ATTRIBUTE`` (required): numeric attribute summed. ``TIME_ATTRIBUTE`` (required): ISO 8601 string
  or epoch seconds (values >= 1e11 are read as milliseconds). ``BUCKET`` [``hour``]: minute, hour or day.
- ``TTL_DELETES`` [``subtract``]: ``ignore`` keeps rows expired by TTL in the aggregates.
- ``RETENTION_DAYS`` [``0`` = forever]: sets ``expires_at`` = bucket start + this many days.
- ``WRITE_CONCURRENCY`` [``8``]: aggregate items written in parallel.
- ``MARK_TTL_SECONDS`` [``172800``]: how long a shard's mark outlives its last write (stream retention,
  24 hours for DynamoDB streams, plus a day).
- ``METRICS_NAMESPACE`` [``LambdaPatterns``], ``SERVICE_NAME`` [``stream-aggregator``].

Exactly once: a batch becomes one transaction per aggregate item (``ADD`` deltas, and the shard's mark item
moved past the batch's sequence numbers; see ``lambda_common.dynamo``). Each aggregate and its mark are
read first (one BatchGetItem per 50 aggregates) because DynamoDB has no MIN/MAX update. A re-delivered
batch, a bisected half, or the tail re-sent after a partial failure is filtered against the marks and lands
once; a record that appears twice in one batch is applied once (``DuplicateRecords``).

The lane is the shard: with a tumbling window Lambda names it (``shardId``); otherwise the whole stream is
one lane, which is exact for a stream with one open shard at a time. Tables whose stream has several open
shards feeding the same aggregate item need the tumbling window (any length) so marks are kept per shard.
ParallelizationFactor must stay 1 (the guard relies on per-lane order).

Failures: a poison record (see ``aggregation``) is reported in ``batchItemFailures`` with its
``SequenceNumber`` and counted; every other record still lands. An aggregate item whose write fails
(throttling after botocore's retries, a conflict that persists) reports every record feeding it. Lambda
restarts at the lowest reported sequence number; the records after it are already marked, so they are
skipped, and after the retry limit the poison record goes to the on-failure destination.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aggregation import AggregateKey, BatchPlan, Config, parse_config, plan_batch, update_plan
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import log_context
from lambda_common.batch import batch_response
from lambda_common.coldstart import freeze_init_objects
from lambda_common.env import integer, required, telemetry
from lambda_common.marks import (
    DEFAULT_MARK_TTL_SECONDS,
    GuardConflict,
    GuardResult,
    batch_get,
    guarded_update,
    mark_key,
)
from lambda_common.parallel import write_each

freeze_init_objects()

DEFAULT_LANE = "stream"

logger, metrics = telemetry("stream-aggregator")
dynamodb = boto3.client("dynamodb")
CONFIG = parse_config(os.environ)
(TABLE,) = required("AGGREGATES_TABLE", meaning="the table aggregates are written to")
CONCURRENCY = integer("WRITE_CONCURRENCY", 8, at_least=1)
MARK_TTL_SECONDS = integer("MARK_TTL_SECONDS", DEFAULT_MARK_TTL_SECONDS)
freeze_init_objects()


def lane_of(event: dict[str, Any]) -> str:
    """The shard the batch comes from when Lambda says (tumbling windows), else the stream as one lane."""
    return str(event.get("shardId") or DEFAULT_LANE)


def write_aggregates(
    client: Any,
    table: str,
    plan: BatchPlan,
    lane: str,
    now: datetime,
    config: Config = CONFIG,
    concurrency: int = CONCURRENCY,
) -> tuple[dict[AggregateKey, GuardResult], dict[AggregateKey, str]]:
    """Apply a planned batch, one guarded UpdateItem per aggregate item: results and per-key errors."""
    keys = list(plan.contributions)
    wanted = [k.item_key for k in keys] + [mark_key(k.item_key, lane) for k in keys]
    current = {(item["pk"], item["sk"]): item for item in batch_get(client, table, wanted)}

    def write(key: AggregateKey) -> GuardResult:
        item_key, marker = key.item_key, mark_key(key.item_key, lane)
        return guarded_update(
            client,
            table=table,
            key=item_key,
            lane=lane,
            entries=plan.contributions[key],
            plan=lambda pending, observed: update_plan(pending, observed, key, now, config),
            observed=current.get((item_key["pk"], item_key["sk"])),
            mark=current.get((marker["pk"], marker["sk"])),
            mark_ttl_seconds=MARK_TTL_SECONDS,
        )

    return write_each(
        keys, write, concurrency=concurrency, retryable=(ClientError, BotoCoreError, GuardConflict)
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fold the batch into the aggregates table; report poison records and failed items' records."""
    with log_context(context):
        records = event.get("Records") or []
        plan = plan_batch(records, CONFIG)
        lane = lane_of(event)
        failed: set[str] = set()
        for sequence, reason in plan.poison:
            logger.error(
                "poison stream record", extra={"fields": {"sequence_number": sequence, "reason": reason}}
            )
            failed.add(sequence)
        try:
            results, errors = write_aggregates(dynamodb, TABLE, plan, lane, datetime.now(UTC))
        except (ClientError, BotoCoreError, RuntimeError) as error:
            # The up-front read failed: nothing was written, so every aggregated record is retried.
            logger.error("reading aggregates failed", extra={"fields": {"error": str(error)}})
            results, errors = {}, {key: str(error) for key in plan.contributions}
        for key, error in errors.items():
            logger.error("aggregate write failed", extra={"fields": {"key": key.item_key, "error": error}})
            failed.update(plan.sequences[key])
        metrics.add("RecordsReceived", plan.records)
        metrics.add("PoisonRecords", len(plan.poison))
        metrics.add("DuplicateRecords", plan.duplicates)
        metrics.add("RecordsIgnored", plan.ignored)
        metrics.add("TtlDeletes", plan.ttl_deletes)
        metrics.add("AggregateWrites", sum(r.writes for r in results.values()))
        metrics.add("ContributionsApplied", sum(r.applied for r in results.values()))
        metrics.add("ContributionsAlreadyApplied", sum(r.skipped for r in results.values()))
        metrics.add("AggregateWriteFailures", len(errors))
        metrics.flush()
        logger.info(
            "batch aggregated",
            extra={
                "fields": {
                    "records": plan.records,
                    "aggregates": len(plan.contributions),
                    "failed_records": len(failed),
                    "lane": lane,
                }
            },
        )
        # Tumbling-window invocations must hand a state back; the aggregates table is the state.
        return batch_response(failed, sequence_numbers=True, state={} if "window" in event else None)
