"""Pure core of clickstream analytics: Kinesis records -> per-minute counts per screen and event type.

Count items: ``pk = "screen#<screen>"``, ``sk = "<minute ISO UTC>#<event_type>"`` (``2026-11-28T12:00Z#tap``).
The dashboard question is "counts for the last N minutes per screen": with the screen as partition key and
the minute leading the sort key, that is ONE Query per screen (``pk = screen#home AND sk BETWEEN
'2026-11-28T11:50Z' AND '2026-11-28T12:00Z~'``) returning every event type, already in time order. A
minute-first partition key would need N queries and put every write of the current minute on one
partition; ``screen#event_type`` as partition key would need one query per event type.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambda_common.dynamo import key_problem, pad_sequence, valid_utf8
from lambda_common.marks import UpdatePlan
from lambda_common.parsing import parse_json
from lambda_common.timestamps import utc_datetime

_MAX_NAME = 256


class Malformed(ValueError):
    """A click record that can never be counted: bad base64, bad JSON, missing or invalid fields."""


@dataclass(frozen=True)
class CountKey:
    """One count item: the clicks of one event type on one screen in one minute."""

    screen: str
    minute: str
    event_type: str

    @property
    def item_key(self) -> dict[str, str]:
        """The screen alone as partition key, the minute leading the sort key: the last N minutes of a
        screen, every event type, are one Query (see the module docstring)."""
        return {"pk": f"screen#{self.screen}", "sk": f"{self.minute}#{self.event_type}"}


@dataclass(frozen=True)
class Position:
    """Where a Kinesis record sits: its shard (the idempotency lane) and sequence number."""

    shard: str
    sequence: str
    padded: str


@dataclass
class ClickPlan:
    """A batch folded per (count item, shard). ``entries`` are (padded sequence, 1), sorted."""

    entries: dict[tuple[CountKey, str], list[tuple[str, int]]] = field(default_factory=dict)
    sequences: dict[tuple[CountKey, str], list[str]] = field(default_factory=dict)
    malformed: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)
    records: int = 0
    #: Records whose sequence number already appeared in the batch (replays can make a record meet itself).
    duplicates: int = 0


def position(record: Mapping[str, Any]) -> Position:
    """The shard (from ``eventID`` = ``shardId-...:<sequence>``) and sequence number of a Kinesis record."""
    kinesis = record.get("kinesis") or {}
    sequence = kinesis.get("sequenceNumber")
    shard = str(record.get("eventID", "")).split(":", 1)[0] or "stream"
    return Position(shard, sequence, pad_sequence(sequence))


def minute_of(raw: Any) -> str:
    """The minute holding an ISO 8601 timestamp or epoch seconds/milliseconds, as ``YYYY-MM-DDTHH:MMZ``."""
    try:
        when = utc_datetime(raw)
    except ValueError as error:
        raise Malformed(f"timestamp {error}") from None
    return when.strftime("%Y-%m-%dT%H:%MZ")


def _name(click: Mapping[str, Any], field_name: str) -> str:
    value = click.get(field_name)
    if not isinstance(value, str) or not value.strip():
        raise Malformed(f"{field_name} missing or not a non-empty string")
    if len(value) > _MAX_NAME:
        raise Malformed(f"{field_name} longer than {_MAX_NAME} characters")
    if not valid_utf8(value):
        # JSON's "\ud800" escapes decode to lone surrogates, which DynamoDB refuses on every attempt.
        raise Malformed(f"{field_name} is not valid UTF-8 (a lone surrogate)")
    return value.strip()


def decode_click(record: Mapping[str, Any]) -> CountKey:
    """The count item a Kinesis click record increments; raises Malformed for one that never will."""
    data = (record.get("kinesis") or {}).get("data")
    if not isinstance(data, str):
        raise Malformed("record has no data")
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("data is not base64") from None
    try:
        click = parse_json(payload)
    except ValueError:
        raise Malformed("data is not JSON") from None
    if not isinstance(click, dict):
        raise Malformed("data is not a JSON object")
    key = CountKey(_name(click, "screen"), minute_of(click.get("timestamp")), _name(click, "event_type"))
    # 256 four-byte characters pass the character limit and still make a sort key DynamoDB refuses.
    problem = key_problem(key.item_key, sort_key="sk")
    if problem:
        raise Malformed(problem)
    return key


def plan_clicks(records: Iterable[Mapping[str, Any]]) -> ClickPlan:
    """Fold a batch into per-(count item, shard) entries; malformed records set aside with their reason."""
    plan = ClickPlan()
    seen: set[tuple[str, str]] = set()
    for record in records:
        plan.records += 1
        try:
            where = position(record)
        except ValueError as error:
            plan.malformed.append((record, str(error)))
            continue
        if (where.shard, where.padded) in seen:
            plan.duplicates += 1
            continue
        seen.add((where.shard, where.padded))
        try:
            key = decode_click(record)
        except Malformed as error:
            plan.malformed.append((record, str(error)))
            continue
        plan.entries.setdefault((key, where.shard), []).append((where.padded, 1))
        plan.sequences.setdefault((key, where.shard), []).append(where.sequence)
    for entries in plan.entries.values():
        entries.sort(key=lambda entry: entry[0])
    return plan


def count_update(pending: list[int], key: CountKey, retention_days: int) -> UpdatePlan:
    """The UpdateItem adding ``len(pending)`` clicks to one count item."""
    plan = UpdatePlan(add={"count": sum(pending)})
    plan.set.update({"screen": key.screen, "minute": key.minute, "event_type": key.event_type})
    if retention_days:
        start = datetime.strptime(key.minute, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        plan.set["expires_at"] = int(start.timestamp()) + retention_days * 86_400
    return plan


def quarantine_id(record: Mapping[str, Any]) -> str:
    """A record's identity in its stream: the same for every delivery of it, different for every other
    record (``<stream ARN>/<shard>/<sequence number>``), so a reader of the queue can de-duplicate."""
    kinesis = record.get("kinesis") or {}
    shard = str(record.get("eventID", "")).split(":", 1)[0] or "stream"
    return f"{record.get('eventSourceARN')}/{shard}/{kinesis.get('sequenceNumber')}"


def malformed_report(record: Mapping[str, Any], reason: str, max_data: int = 16_384) -> str:
    """The JSON body sent to the malformed-records queue: enough to inspect, and to re-read from the stream.

    The data is cut to ``max_data`` base64 characters so ten reports fit one SendMessageBatch; the shard and
    sequence number locate the full record for as long as the stream retains it.
    """
    kinesis = record.get("kinesis") or {}
    data = kinesis.get("data") if isinstance(kinesis.get("data"), str) else ""
    return json.dumps(
        {
            "quarantine_id": quarantine_id(record),
            "reason": reason,
            "event_id": record.get("eventID"),
            "event_source_arn": record.get("eventSourceARN"),
            "sequence_number": kinesis.get("sequenceNumber"),
            "partition_key": kinesis.get("partitionKey"),
            "approximate_arrival_timestamp": kinesis.get("approximateArrivalTimestamp"),
            "data": data[:max_data],
            "data_truncated": len(data) > max_data,
        },
        default=str,
    )
