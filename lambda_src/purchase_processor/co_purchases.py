"""Co-purchase counts for recommendations, kept in the purchase's own transaction (so exactly once with it).

For each purchase of product ``p`` by customer ``c``, every other product ``c`` bought within
``WINDOW_DAYS`` of it (before or after: purchases may arrive out of order) is "bought together" with ``p``,
and both pair counts go up by one:

- aggregates ``related#<p>`` / ``<q>``: ``score`` (customers who bought both within the window), ``product_id``.

Bounded work and size, and no heavy buyer dominating:
- the customer's ``totals`` item keeps ``recent``, a map of at most ``RECENT_CAP`` products to when they were
  last bought (older than the window dropped), guarded by ``recent_version`` against concurrent purchases;
- a purchase adds pairs only when ``p`` is not already in ``recent`` within the window: buying one product
  a hundred times in a month counts each of its pairs once;
- at most ``FANOUT_CAP`` co-products (the most recent) per purchase: at most ``2 * FANOUT_CAP`` updates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

WINDOW_DAYS = 30
RECENT_CAP = 20
FANOUT_CAP = 10
_WINDOW = timedelta(days=WINDOW_DAYS)


def related_key(product_id: str, other_id: str) -> dict[str, str]:
    """Where the count of customers who bought ``product_id`` and ``other_id`` together is kept."""
    return {"pk": f"related#{product_id}", "sk": other_id}


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _within(a: str, b: str) -> bool:
    return abs(_at(a) - _at(b)) <= _WINDOW


def co_products(product_id: str, purchased_at: str, recent: Mapping[str, str]) -> list[str]:
    """The products to pair ``product_id`` with: those in ``recent`` within the window of ``purchased_at``,
    most recent first, at most ``FANOUT_CAP``; none if ``product_id`` itself is already there (counted)."""
    if product_id in recent and _within(recent[product_id], purchased_at):
        return []
    others = [(at, q) for q, at in recent.items() if q != product_id and _within(at, purchased_at)]
    return [q for _, q in sorted(others, reverse=True)[:FANOUT_CAP]]


def next_recent(product_id: str, purchased_at: str, recent: Mapping[str, str]) -> dict[str, str]:
    """``recent`` after this purchase: entries outside the window of the newest purchase dropped, the product
    at its latest time, and only the ``RECENT_CAP`` most recent kept."""
    merged = dict(recent)
    merged[product_id] = max(purchased_at, merged.get(product_id, purchased_at))
    newest = max(merged.values())
    kept = [(at, q) for q, at in merged.items() if _within(at, newest)]
    return {q: at for at, q in sorted(kept, reverse=True)[:RECENT_CAP]}


def pair_updates(product_id: str, others: list[str], table: str, update: Any) -> list[dict[str, Any]]:
    """The two ``ADD score`` updates of each pair, built with the caller's ``update`` helper."""
    items = []
    for other in others:
        for a, b in ((product_id, other), (other, product_id)):
            items.append(
                update(table, related_key(a, b), "ADD score :one SET product_id = :b", {":one": 1, ":b": b})
            )
    return items
