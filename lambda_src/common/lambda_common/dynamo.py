"""DynamoDB helpers for stream consumers: DynamoDB JSON, and exactly-once ``ADD`` through a sequence guard.

The guard. A stream consumer folds a batch into one ``UpdateItem`` per aggregate item (``ADD`` deltas). A
retry re-delivers records (a partial batch response restarts at the lowest failed record, bisection
re-delivers halves), so each aggregate item remembers, per *lane*, the highest stream sequence number it
has absorbed (attribute ``seq#<lane>``, zero-padded so string order is numeric order). A write carries only
the records above that mark and is conditioned on ``seq#<lane> < first sequence in the write``; when the
condition fails the item's current mark comes back with the error (``ReturnValuesOnConditionCheckFailure``),
the records at or below it are dropped as already applied, and the remainder is written again. Replays,
halves and partial overlaps therefore land exactly once.

This is sound as long as one lane delivers a given item's contributions in sequence order, one batch at a
time - true for one stream shard processed with ParallelizationFactor 1, which is what the lane stands for.
Lanes never block one another: their marks are separate attributes and ``ADD`` commutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

#: Kinesis sequence numbers have at most 128 digits, DynamoDB stream ones at most 40: one width fits both.
SEQUENCE_WIDTH = 128
_DIGITS = re.compile(r"^[0-9]{1,128}$")
# DynamoDB numbers: 38 significant digits (leading and trailing zeros trimmed), magnitude 1E-130..9.99E+125.
MAX_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 125

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()

T = TypeVar("T")


class UndecodableImage(ValueError):
    """A DynamoDB JSON map that does not decode (unknown type tag, malformed number, wrong shape)."""


def pad_sequence(sequence: str) -> str:
    """A stream sequence number as a fixed-width digit string, so DynamoDB's string order is numeric order."""
    if not isinstance(sequence, str) or not _DIGITS.match(sequence):
        raise ValueError(f"not a stream sequence number: {sequence!r}")
    return sequence.zfill(SEQUENCE_WIDTH)


def number_fits(value: int | Decimal) -> bool:
    """Whether DynamoDB stores this number exactly: 38 significant digits within its exponent range.

    boto3's serializer raises ``decimal`` signals (not ClientError) for anything else, so a payload number
    must pass this before it is written, or the whole batch fails instead of the one record.
    """
    number = Decimal(value)
    if not number.is_finite():
        return False
    _sign, digits, exponent = number.as_tuple()
    significant = "".join(map(str, digits)).lstrip("0")
    if not significant:
        return True
    stripped = significant.rstrip("0")
    exponent += len(significant) - len(stripped)
    adjusted = exponent + len(stripped) - 1
    return len(stripped) <= MAX_DIGITS and MIN_EXPONENT <= adjusted <= MAX_EXPONENT


def from_dynamodb_json(image: Any) -> dict[str, Any]:
    """A stream image or low-level item (``{"a": {"S": "x"}}``) as Python values, numbers as Decimal."""
    if not isinstance(image, dict):
        raise UndecodableImage(f"expected a map of attributes, got {type(image).__name__}")
    try:
        return {name: _deserializer.deserialize(value) for name, value in image.items()}
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as error:
        raise UndecodableImage(f"undecodable attribute value: {error}") from None


def to_dynamodb_json(item: dict[str, Any]) -> dict[str, Any]:
    """Plain Python values (money and counts as Decimal/int, never float) as a low-level DynamoDB item."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


@dataclass
class UpdatePlan:
    """One UpdateItem: ``ADD`` deltas, ``SET`` values, and guards of the form "absent, or attr <op> value"."""

    add: dict[str, Decimal | int] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    #: (attribute, "<" or ">", value): the write only happens if the attribute is absent or compares so.
    guards: list[tuple[str, str, Any]] = field(default_factory=list)

    def request(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        """The UpdateItem parameters, every name and value through placeholders (names may hold '#')."""
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
    """The attribute holding a lane's high-water mark on an aggregate item."""
    return f"seq#{lane}"


@dataclass(frozen=True)
class GuardResult:
    """What a guarded write did: contributions applied now, skipped as already applied, requests sent."""

    applied: int
    skipped: int
    writes: int


class GuardConflict(RuntimeError):
    """The item kept changing under the write (another lane moving an extreme); the caller retries later."""


def guarded_update(
    client: Any,
    *,
    table: str,
    key: dict[str, Any],
    lane: str,
    entries: Sequence[tuple[str, T]],
    plan: Callable[[Sequence[T], dict[str, Any] | None], UpdatePlan | None],
    observed: dict[str, Any] | None = None,
    attempts: int = 5,
) -> GuardResult:
    """Apply ``entries`` (padded sequence, contribution), sorted by sequence, to one item exactly once.

    ``plan(pending, observed_item)`` turns the contributions not yet applied into an UpdatePlan (or None when
    they change nothing); ``observed`` is the item as last read (None: absent or not read). The lane's guard
    is added here.
    """
    mark_name = lane_attribute(lane)
    writes = 0
    for _ in range(attempts):
        mark = observed.get(mark_name) if observed else None
        pending = [entry for entry in entries if mark is None or entry[0] > mark]
        if not pending:
            return GuardResult(applied=0, skipped=len(entries), writes=writes)
        update = plan([contribution for _, contribution in pending], observed)
        if update is None:
            return GuardResult(applied=len(pending), skipped=len(entries) - len(pending), writes=writes)
        update.set[mark_name] = pending[-1][0]
        update.guards.append((mark_name, "<", pending[0][0]))
        writes += 1
        try:
            client.update_item(**update.request(table, key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            observed = _current_item(client, table, key, error)
            continue
        return GuardResult(applied=len(pending), skipped=len(entries) - len(pending), writes=writes)
    raise GuardConflict(f"{key} changed under {attempts} consecutive writes")


def _current_item(client: Any, table: str, key: dict[str, Any], error: ClientError) -> dict[str, Any] | None:
    item = error.response.get("Item")
    if item is None:
        # Older endpoints do not echo the item; a consistent read gives the same answer.
        item = client.get_item(TableName=table, Key=to_dynamodb_json(key), ConsistentRead=True).get("Item")
    return from_dynamodb_json(item) if item else None


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
