"""Timestamps from untrusted event payloads as aware UTC datetimes; every bad one raises ``ValueError``.

The standard library raises more than ``ValueError`` here: ``datetime.astimezone`` raises ``OverflowError``
for year 1 with a positive offset or year 9999 with a negative one, and ``fromtimestamp`` ``OverflowError``
or ``OSError`` out of its range. Uncaught, any of these fails the whole batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Epoch values at or above this are taken as milliseconds: as seconds it would be the year 5138.
EPOCH_MS_THRESHOLD = 100_000_000_000
# Beyond datetime's year 9999 either way; checked before int() so a huge exponent is never expanded.
_MAX_EPOCH_SECONDS = 300_000_000_000


def utc_datetime(raw: Any, *, naive_is_utc: bool = True, epoch: bool = True) -> datetime:
    """An aware UTC datetime from an ISO 8601 string or (with ``epoch``) epoch seconds or milliseconds.

    Raises ``ValueError`` saying what is wrong; callers prefix it with the field's name. A string without
    an offset is UTC when ``naive_is_utc``, else refused.
    """
    if isinstance(raw, bool):
        raise ValueError("is a boolean")
    if isinstance(raw, (int, float, Decimal)):
        if not epoch:
            raise ValueError("must be an ISO 8601 string")
        return _from_epoch(raw)
    if not isinstance(raw, str):
        expected = "an ISO 8601 string or epoch number" if epoch else "an ISO 8601 string"
        raise ValueError(f"has type {type(raw).__name__}, expected {expected}")
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"is not ISO 8601: {raw[:64]!r}") from None
    if when.tzinfo is None:
        if not naive_is_utc:
            raise ValueError("needs a time zone (e.g. a trailing Z)")
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"is out of range in UTC: {raw[:64]!r}") from None


def _from_epoch(raw: int | float | Decimal) -> datetime:
    seconds = Decimal(raw)
    if not seconds.is_finite():
        raise ValueError(f"is not a finite number: {raw}")
    if abs(seconds) >= EPOCH_MS_THRESHOLD:
        seconds /= 1000
    if abs(seconds) > _MAX_EPOCH_SECONDS:
        raise ValueError(f"is out of range: {raw}")
    try:
        # Floor, not truncation: -0.5 s is in the minute before the epoch.
        return datetime.fromtimestamp(int(seconds.to_integral_value(rounding=ROUND_FLOOR)), UTC)
    except (OverflowError, ValueError, OSError):
        raise ValueError(f"is out of range: {raw}") from None
