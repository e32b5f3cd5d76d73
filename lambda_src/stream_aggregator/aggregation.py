"""Pure core of the stream aggregator: stream records -> per (dimension value, time bucket) deltas -> writes.

Semantics, per aggregate item (``pk = "<dimension>#<value>"``, ``sk = "<bucket>#<bucket start, ISO UTC>"``):

- ``count`` and ``sum`` follow the source table: INSERT adds the new image, REMOVE subtracts the old image,
  MODIFY subtracts the old image from its item and adds the new image to its item (so a changed dimension
  value or a timestamp in another bucket moves the amounts; an unchanged one nets to the difference).
- ``min`` / ``max`` are the *observed extremes*: the smallest and largest value ever added to the bucket
  (INSERT, or the new image of a MODIFY). DynamoDB cannot un-apply an extreme without re-reading every item
  of the bucket, so a REMOVE or a MODIFY lowering the maximum leaves them as they were.
- An expiry by DynamoDB TTL (a REMOVE whose ``userIdentity`` is the DynamoDB service) subtracts like any
  delete by default, so the aggregates describe the rows that exist; ``TTL_DELETES=ignore`` keeps expired
  rows in the history instead (for tables that use TTL as retention, not as a business delete). Either way
  such records are counted as ``TtlDeletes``.

Images. An image holding none of the configured attributes is not an aggregated row (single-table designs
keep other entities in the same table): it contributes nothing and is counted as ignored. An image holding
some but not all, or holding them with the wrong type, is *poison*: reported in ``batchItemFailures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal
from typing import Any

from lambda_common.dynamo import UndecodableImage, from_dynamodb_json, pad_sequence, valid_utf8
from lambda_common.marks import UpdatePlan
from lambda_common.timestamps import utc_datetime

BUCKETS = ("minute", "hour", "day")
TTL_PRINCIPAL = "dynamodb.amazonaws.com"
# A partition key holds 2048 bytes; "<dimension>#<value>" keeps to this for the value. Counted in bytes:
# 512 four-byte characters pass a character count and make BatchGetItem refuse the whole batch.
_MAX_KEY_PART_BYTES = 1024


class Poison(ValueError):
    """A record that can never be aggregated (bad image, wrong or partly missing attributes)."""


@dataclass(frozen=True)
class Config:
    """What to aggregate; read from the environment by :func:`parse_config`."""

    dimensions: tuple[str, ...]
    value_attribute: str
    time_attribute: str
    bucket: str = "hour"
    ttl_deletes: str = "subtract"
    retention_days: int = 0


def parse_config(env: Mapping[str, str]) -> Config:
    """Config from environment variables; a clear error naming the variable when one is wrong."""
    dimensions = tuple(d.strip() for d in env.get("DIMENSIONS", "").split(",") if d.strip())
    if not dimensions:
        raise ValueError("DIMENSIONS is required: a comma-separated list of attribute names to group by")
    value_attribute = env.get("VALUE_ATTRIBUTE", "").strip()
    time_attribute = env.get("TIME_ATTRIBUTE", "").strip()
    if not value_attribute or not time_attribute:
        raise ValueError("VALUE_ATTRIBUTE and TIME_ATTRIBUTE are required")
    bucket = env.get("BUCKET", "hour").strip().lower()
    if bucket not in BUCKETS:
        raise ValueError(f"BUCKET must be one of {', '.join(BUCKETS)}, got {bucket!r}")
    ttl_deletes = env.get("TTL_DELETES", "subtract").strip().lower()
    if ttl_deletes not in ("subtract", "ignore"):
        raise ValueError(f"TTL_DELETES must be subtract or ignore, got {ttl_deletes!r}")
    try:
        retention_days = int(env.get("RETENTION_DAYS", "0"))
    except ValueError:
        raise ValueError("RETENTION_DAYS must be a whole number of days (0: keep forever)") from None
    if retention_days < 0:
        raise ValueError("RETENTION_DAYS must not be negative")
    return Config(dimensions, value_attribute, time_attribute, bucket, ttl_deletes, retention_days)


_DYNAMODB_DIGITS = Context(prec=38)


@dataclass(frozen=True)
class Delta:
    """A change to one aggregate item. ``low``/``high``: extremes of the values *added* (None if none)."""

    count: int = 0
    total: Decimal = Decimal(0)
    low: Decimal | None = None
    high: Decimal | None = None

    def __add__(self, other: Delta) -> Delta:
        return Delta(
            self.count + other.count,
            # DynamoDB numbers carry 38 significant digits; Python's default context would round at 28.
            _DYNAMODB_DIGITS.add(self.total, other.total),
            _pick(min, self.low, other.low),
            _pick(max, self.high, other.high),
        )

    @classmethod
    def added(cls, value: Decimal) -> Delta:
        return cls(1, value, value, value)

    @classmethod
    def removed(cls, value: Decimal) -> Delta:
        return cls(-1, -value)


def _pick(choose, a, b):
    if a is None:
        return b
    return a if b is None else choose(a, b)


@dataclass(frozen=True)
class AggregateKey:
    """The key of one aggregate item, plus the readable parts stored beside it for queries."""

    dimension: str
    value: str
    bucket: str
    start: str

    @property
    def item_key(self) -> dict[str, str]:
        return {"pk": f"{self.dimension}#{self.value}", "sk": f"{self.bucket}#{self.start}"}


@dataclass
class RecordEffect:
    """What one stream record does: its sequence, and a delta per aggregate item it touches."""

    sequence: str
    padded: str
    deltas: dict[AggregateKey, Delta] = field(default_factory=dict)
    ttl_delete: bool = False
    ignored: bool = False


@dataclass
class BatchPlan:
    """A batch folded per aggregate item. ``contributions[key]`` is sorted by padded sequence."""

    contributions: dict[AggregateKey, list[tuple[str, Delta]]] = field(default_factory=dict)
    #: Original sequence numbers of the records feeding each key, for partial batch responses.
    sequences: dict[AggregateKey, list[str]] = field(default_factory=dict)
    poison: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0
    #: Records whose sequence number already appeared in the batch (bisection and replays can do that).
    duplicates: int = 0
    ignored: int = 0
    ttl_deletes: int = 0


def bucket_start(moment: Any, bucket: str) -> str:
    """The start of the minute/hour/day holding ``moment`` (ISO string, or epoch seconds/ms) as ISO UTC."""
    try:
        when = utc_datetime(moment)
    except ValueError as error:
        raise Poison(f"time attribute {error}") from None
    if bucket == "minute":
        when = when.replace(second=0, microsecond=0)
    elif bucket == "hour":
        when = when.replace(minute=0, second=0, microsecond=0)
    else:
        when = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _dimension_value(raw: Any, name: str) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, Decimal):
        return format(raw.normalize(), "f") if raw == raw.to_integral_value() else str(raw.normalize())
    if isinstance(raw, str) and raw and valid_utf8(raw) and len(raw.encode("utf-8")) <= _MAX_KEY_PART_BYTES:
        return raw
    raise Poison(
        f"dimension {name!r} must be a non-empty string (<= {_MAX_KEY_PART_BYTES} UTF-8 bytes, valid UTF-8), "
        "number or boolean"
    )


def image_deltas(image: dict[str, Any] | None, config: Config, sign: int) -> dict[AggregateKey, Delta] | None:
    """The deltas one image adds (sign +1) or removes (sign -1); None when absent or not an aggregated row."""
    if image is None:
        return None
    wanted = (*config.dimensions, config.value_attribute, config.time_attribute)
    present = [name for name in wanted if name in image]
    if not present:
        return None
    if len(present) < len(wanted):
        missing = ", ".join(name for name in wanted if name not in image)
        raise Poison(f"image lacks {missing}")
    value = image[config.value_attribute]
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise Poison(f"{config.value_attribute!r} must be a number")
    if not value.is_finite():
        raise Poison(f"{config.value_attribute!r} is not finite")
    start = bucket_start(image[config.time_attribute], config.bucket)
    delta = Delta.added(value) if sign > 0 else Delta.removed(value)
    return {
        AggregateKey(name, _dimension_value(image[name], name), config.bucket, start): delta
        for name in config.dimensions
    }


def is_ttl_delete(record: Mapping[str, Any]) -> bool:
    """DynamoDB marks deletions made by TTL with the service as the record's user identity."""
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL


def _image(stream: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    if name not in stream:
        return None
    try:
        return from_dynamodb_json(stream[name])
    except UndecodableImage as error:
        raise Poison(f"{name}: {error}") from None


def record_effect(record: Mapping[str, Any], config: Config) -> RecordEffect:
    """Decode one DynamoDB stream record into its deltas; raises Poison for a record that never will."""
    stream = record.get("dynamodb")
    if not isinstance(stream, dict):
        raise Poison("record has no dynamodb section")
    sequence = stream.get("SequenceNumber")
    try:
        padded = pad_sequence(sequence)
    except ValueError as error:
        raise Poison(str(error)) from None
    event = record.get("eventName")
    effect = RecordEffect(sequence, padded, ttl_delete=event == "REMOVE" and is_ttl_delete(record))
    if event == "INSERT":
        new, old = _require(stream, "NewImage"), None
    elif event == "REMOVE":
        new, old = None, _require(stream, "OldImage")
    elif event == "MODIFY":
        new, old = _require(stream, "NewImage"), _require(stream, "OldImage")
    else:
        raise Poison(f"unknown eventName {event!r}")
    if effect.ttl_delete and config.ttl_deletes == "ignore":
        return effect
    removed = image_deltas(old, config, -1)
    added = image_deltas(new, config, +1)
    if removed is None and added is None:
        effect.ignored = True
        return effect
    for part in (removed or {}, added or {}):
        for key, delta in part.items():
            effect.deltas[key] = effect.deltas[key] + delta if key in effect.deltas else delta
    return effect


def _require(stream: Mapping[str, Any], name: str) -> dict[str, Any]:
    image = _image(stream, name)
    if image is None:
        raise Poison(f"{name} missing: the stream must use NEW_AND_OLD_IMAGES")
    return image


def plan_batch(records: Iterable[Mapping[str, Any]], config: Config) -> BatchPlan:
    """Fold a batch into per-item contributions; poison records are set aside with their reason."""
    plan = BatchPlan()
    seen: set[str] = set()
    for record in records:
        plan.records += 1
        try:
            effect = record_effect(record, config)
        except Poison as error:
            identifier = (
                (record.get("dynamodb") or {}).get("SequenceNumber") if isinstance(record, dict) else None
            )
            if str(identifier) not in seen:
                seen.add(str(identifier))
                plan.poison.append((str(identifier), str(error)))
            continue
        if effect.padded in seen:
            plan.duplicates += 1
            continue
        seen.add(effect.padded)
        plan.ttl_deletes += effect.ttl_delete
        plan.ignored += effect.ignored
        for key, delta in effect.deltas.items():
            plan.contributions.setdefault(key, []).append((effect.padded, delta))
            plan.sequences.setdefault(key, []).append(effect.sequence)
    for entries in plan.contributions.values():
        entries.sort(key=lambda entry: entry[0])
    return plan


def update_plan(
    pending: Sequence[Delta],
    observed: dict[str, Any] | None,
    key: AggregateKey,
    now: datetime,
    config: Config,
) -> UpdatePlan | None:
    """The UpdateItem for the contributions not yet applied; None when they change nothing.

    An extreme is written only when it beats the stored one, guarded by "still beats it" so a concurrent
    lane lowering the same minimum makes this write re-read instead of overwriting a smaller value.
    """
    net = Delta()
    for delta in pending:
        net = net + delta
    observed = observed or {}
    plan = UpdatePlan()
    if net.count:
        plan.add["count"] = net.count
    if net.total:
        plan.add["sum"] = net.total
    if net.low is not None and ("min" not in observed or net.low < observed["min"]):
        plan.set["min"] = net.low
        plan.guards.append(("min", ">", net.low))
    if net.high is not None and ("max" not in observed or net.high > observed["max"]):
        plan.set["max"] = net.high
        plan.guards.append(("max", "<", net.high))
    if not plan.add and not plan.set:
        return None
    plan.set.update(
        {
            "dimension": key.dimension,
            "dimension_value": key.value,
            "bucket": key.bucket,
            "bucket_start": key.start,
        }
    )
    plan.set["updated_at"] = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if config.retention_days:
        start = datetime.fromisoformat(key.start.replace("Z", "+00:00"))
        plan.set["expires_at"] = int(start.timestamp()) + config.retention_days * 86_400
    return plan
