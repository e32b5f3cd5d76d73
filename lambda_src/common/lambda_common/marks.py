"""Exactly-once ``ADD`` for stream consumers, through mark items.

The guard. A stream consumer folds a batch into one write per aggregate item (``ADD`` deltas). A retry
re-delivers records (a partial batch response restarts at the lowest failed record, bisection re-delivers
halves, a timed-out invocation is run again), so for each aggregate item and *lane* (a stream shard) the
highest stream sequence number absorbed is kept in a **mark item** of its own: partition key
``mark#<digest of the aggregate's key>``, sort key ``<lane>``, attributes ``seq`` (zero-padded so string
order is numeric order), ``lane`` and ``expires_at``. A write carries only the records above the
mark, and moves the mark in the same ``TransactWriteItems`` (condition: ``seq < first sequence in the
write``). When the condition fails the current mark comes back with the cancellation
(``ReturnValuesOnConditionCheckFailure``), the records at or below it are dropped as already applied, and
the remainder is written again. When a write's contributions cancel out (an INSERT and a REMOVE of the same
row), the mark still moves, alone, so a resend that starts between the two cannot apply the second alone.

Why mark items, not mark attributes on the aggregate: streams roll their shards (DynamoDB about every four
hours), so an aggregate meets thousands of lanes over its life; attributes would grow it past DynamoDB's
400 KB item limit and make every update cost more write units. A mark item is ~200 bytes, written only while
its lane writes, and expires by TTL (``expires_at``) once its stream can no longer redeliver the records it
covers (stream retention plus a margin, ``mark_ttl_seconds``): a record older than the stream's retention is
never delivered again, so the mark it would need is never read again. An expired mark not yet deleted is
still correct. Cost per write: a two-item transaction (2 x 2 write units for small items) instead of one
plain update.

This is sound as long as one lane delivers a given item's contributions in sequence order, one batch at a
time - true for one stream shard processed with ParallelizationFactor 1, which is what the lane stands for:
every delivery starts at the shard's checkpoint, so every record of the lane at or below a mark was in an
earlier delivery that applied it. Lanes never block one another: their marks are separate items and ``ADD``
commutes. Items written by earlier releases kept the mark as attribute ``seq#<lane>`` on the aggregate:
it is still honoured (and removed on the next write), so an upgrade loses nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from lambda_common.dynamo import from_dynamodb_json, to_dynamodb_json

MARK_PREFIX = "mark#"
#: DynamoDB streams keep records 24 hours; a mark outlives the last record it covers by a day more.
DEFAULT_MARK_TTL_SECONDS = 48 * 3600
# Lanes are shard ids (DynamoDB: up to 65 characters, Kinesis: up to 128); longer ones are digested.
_MAX_LANE = 128

T = TypeVar("T")

_serializer = TypeSerializer()


@dataclass
class UpdatePlan:
    """One UpdateItem: ``ADD`` deltas, ``SET`` values, and guards of the form "absent, or attr <op> value"."""

    add: dict[str, Decimal | int] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    #: (attribute, "<" or ">", value): the write only happens if the attribute is absent or compares so.
    guards: list[tuple[str, str, Any]] = field(default_factory=list)
    #: Attributes removed by the same write.
    remove: list[str] = field(default_factory=list)

    def request(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        """The UpdateItem parameters (also a TransactWriteItems ``Update``), every name and value through
        placeholders (names may hold '#')."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}

        def name(attribute: str) -> str:
            placeholder = f"#n{len(names)}"
            names[placeholder] = attribute
            return placeholder

        def value(raw: Any) -> str:
            placeholder = f":v{len(values)}"
            values[placeholder] = _serializer.serialize(raw)
            return placeholder

        clauses = []
        if self.remove:
            clauses.append("REMOVE " + ", ".join(name(a) for a in self.remove))
        if self.add:
            clauses.append("ADD " + ", ".join(f"{name(a)} {value(v)}" for a, v in self.add.items()))
        if self.set:
            clauses.append("SET " + ", ".join(f"{name(a)} = {value(v)}" for a, v in self.set.items()))
        conditions = []
        for attribute, op, raw in self.guards:
            if op not in ("<", ">"):
                raise ValueError(f"unsupported guard operator {op!r}")
            placeholder = name(attribute)
            conditions.append(f"(attribute_not_exists({placeholder}) OR {placeholder} {op} {value(raw)})")
        request: dict[str, Any] = {
            "TableName": table,
            "Key": to_dynamodb_json(key),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if conditions:
            request["ConditionExpression"] = " AND ".join(conditions)
        return request


def lane_attribute(lane: str) -> str:
    """The attribute that held a lane's mark on the aggregate item itself in earlier releases."""
    return f"seq#{lane}"


def mark_key(key: dict[str, str], lane: str) -> dict[str, str]:
    """The key of the mark item of aggregate ``key`` (partition, then sort attribute) and ``lane``.

    A partition of its own (``mark#<digest of the aggregate's key>``, the lane as sort key): a Query of an
    aggregate's partition never meets a mark, the marks of one aggregate are one Query away, and mark
    writes spread over partitions as the aggregates do. Digesting keeps the key small whatever the size of
    the aggregate's own key (up to 3 KB).
    """
    (partition_name, partition), (sort_name, sort) = key.items()
    if len(lane) > _MAX_LANE:
        lane = hashlib.sha256(lane.encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha256(f"{partition}\x00{sort}".encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return {partition_name: f"{MARK_PREFIX}{digest}", sort_name: lane}


def is_mark(item: dict[str, Any], partition_name: str = "pk") -> bool:
    """Whether an item read from the table is idempotency state rather than an aggregate."""
    return str(item.get(partition_name, "")).startswith(MARK_PREFIX)


@dataclass(frozen=True)
class GuardResult:
    """What a guarded write did: contributions applied now, skipped as already applied, requests sent."""

    applied: int
    skipped: int
    writes: int


class GuardConflict(RuntimeError):
    """The item kept changing under the write (another lane moving an extreme); the caller retries later."""


#: ``guarded_update(mark=UNREAD)``: the lane's mark was not read; the write's condition finds it.
UNREAD = object()


def dedupe_sorted(entries: Sequence[tuple[str, T]]) -> list[tuple[str, T]]:
    """Entries sorted by padded sequence, each sequence once (the first seen): bisection and replays can
    make one record meet itself in a batch, and it must be applied once."""
    seen: set[str] = set()
    unique = []
    for entry in sorted(entries, key=lambda entry: entry[0]):
        if entry[0] not in seen:
            seen.add(entry[0])
            unique.append(entry)
    return unique


def guarded_update(
    client: Any,
    *,
    table: str,
    key: dict[str, Any],
    lane: str,
    entries: Sequence[tuple[str, T]],
    plan: Callable[[Sequence[T], dict[str, Any] | None], UpdatePlan | None],
    observed: dict[str, Any] | None = None,
    mark: Any = UNREAD,
    mark_ttl_seconds: int = DEFAULT_MARK_TTL_SECONDS,
    attempts: int = 5,
) -> GuardResult:
    """Apply ``entries`` (padded sequence, contribution) of one lane to one item exactly once.

    ``plan(pending, observed_item)`` turns the contributions not yet applied into an UpdatePlan (or None when
    they change nothing); ``observed`` is the aggregate as last read (None: absent or not read); ``mark`` the
    lane's mark item as read (None: absent; ``UNREAD``: not read, the condition will tell).
    """
    entries = dedupe_sorted(entries)
    legacy_name = lane_attribute(lane)
    marker = mark_key(key, lane)
    known = None if mark is UNREAD else (mark or {}).get("seq")
    writes = 0
    for _ in range(attempts):
        floor = max((m for m in (known, (observed or {}).get(legacy_name)) if m), default=None)
        pending = [entry for entry in entries if floor is None or entry[0] > floor]
        if not pending:
            return GuardResult(applied=0, skipped=len(entries), writes=writes)
        first, last = pending[0][0], pending[-1][0]
        move_mark = UpdatePlan(
            set={"seq": last, "lane": lane, "expires_at": int(time.time()) + mark_ttl_seconds},
            guards=[("seq", "<", first)],
        ).request(table, marker)
        update = plan([contribution for _, contribution in pending], observed)
        writes += 1
        try:
            if update is None:
                client.update_item(**move_mark)
            else:
                # An item written by an earlier release may hold this lane's mark itself: honour it in the
                # condition and drop it, since the mark item now holds at least as much.
                update.guards.append((legacy_name, "<", first))
                update.remove.append(legacy_name)
                client.transact_write_items(
                    TransactItems=[
                        {"Update": _transactable(move_mark)},
                        {"Update": _transactable(update.request(table, key))},
                    ]
                )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                known = _seq(_returned(client, table, marker, error.response.get("Item")))
                continue
            if code != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or [{}, {}]
            codes = [reason.get("Code") for reason in reasons]
            if codes[0] == "ConditionalCheckFailed":
                known = _seq(_returned(client, table, marker, reasons[0].get("Item")))
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                observed = _returned(client, table, key, reasons[1].get("Item"))
            if "ConditionalCheckFailed" not in codes:
                # A conflict with a concurrent write (or a reason we cannot read): read both again.
                known = _seq(_returned(client, table, marker, None))
                observed = _returned(client, table, key, None)
            continue
        return GuardResult(applied=len(pending), skipped=len(entries) - len(pending), writes=writes)
    raise GuardConflict(f"{key} changed under {attempts} consecutive writes")


def _transactable(request: dict[str, Any]) -> dict[str, Any]:
    # A transaction's Update takes the same fields as UpdateItem, but no ReturnValues of its own.
    return {name: value for name, value in request.items() if name != "ReturnValues"}


def _seq(item: dict[str, Any] | None) -> str | None:
    return (item or {}).get("seq")


def _returned(
    client: Any, table: str, key: dict[str, Any], raw: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The item as a failed condition returned it, else as a consistent read finds it now."""
    if raw is None:
        raw = client.get_item(TableName=table, Key=to_dynamodb_json(key), ConsistentRead=True).get("Item")
    return from_dynamodb_json(raw) if raw else None


def batch_get(
    client: Any, table: str, keys: Sequence[dict[str, Any]], attempts: int = 5
) -> list[dict[str, Any]]:
    """Consistent BatchGetItem of any number of keys (chunks of 100, unprocessed keys retried)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request = {
            table: {"Keys": [to_dynamodb_json(k) for k in keys[start : start + 100]], "ConsistentRead": True}
        }
        for attempt in range(attempts):
            response = client.batch_get_item(RequestItems=request)
            found.extend(from_dynamodb_json(item) for item in response.get("Responses", {}).get(table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05 * (attempt + 1))
        if request:
            raise RuntimeError(f"BatchGetItem left {len(request[table]['Keys'])} key(s) unprocessed")
    return found
