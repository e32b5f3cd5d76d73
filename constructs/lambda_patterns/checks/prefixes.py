"""Whether two S3 key filters can match the same key."""

from __future__ import annotations


def prefixes_overlap(a: str | None, b: str | None) -> bool:
    """True when some key starts with both prefixes; ``None`` or ``""`` means every key."""
    a, b = a or "", b or ""
    return a.startswith(b) or b.startswith(a)
