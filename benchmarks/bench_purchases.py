"""Purchase processor: writes per purchase with the co-purchase counts that feed recommendations.

Counted on the transaction the handler sends (``purchase_records.transaction``, the same function the
handler calls), for customers with more and more recent products and over a simulated month of purchases,
against the same purchases without co-purchase counts (the 4 items: purchase, product, buyer, customer).
Each item of a TransactWriteItems costs two write units, so the ratio is also the ratio of write cost.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from benchmarks.bench_aggregator import _load

WITHOUT = 4  # purchase put, product totals, buyer marker, customer totals
HISTORY = 2_000
CUSTOMERS = 300
PRODUCTS = 60


def _purchase(records, pid: str, customer: str, product: str, at: str):
    return records.Purchase(pid, customer, product, 1, records.Decimal("10"), "EUR", at)


def _items(records, purchase, recent: dict[str, str]) -> int:
    observed = records.Observed(buyer_known=False, last_purchase_at=None, recent=recent, recent_version=1)
    return len(records.transaction(purchase, observed, "purchases", "aggregates", purchase.purchased_at))


def run() -> list[dict]:
    records = _load("purchase_processor", "purchase_records")
    co = _load("purchase_processor", "co_purchases")
    rows = []
    at = "2026-11-28T12:00:00.000Z"
    for recent_count in (0, 3, 9, 25):
        recent = {f"p{n}": f"2026-11-2{n % 8}T10:00:00.000Z" for n in range(recent_count)}
        items = _items(records, _purchase(records, "x", "c", "new", at), recent)
        rows.append(
            {
                "section": "purchases",
                "name": f"transaction items per purchase, customer with {recent_count} recent products",
                "value": items,
                "unit": "items",
                "baseline_name": "the same purchase without co-purchase counts",
                "baseline": WITHOUT,
                "ratio": items / WITHOUT,
                "note": f"2 per co-product, at most {co.FANOUT_CAP} co-products (TransactWriteItems allows 100)",
            }
        )
    # A month of purchases: customers buy a few products each, some repeatedly, in time order.
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    recent_of: dict[str, dict[str, str]] = {}
    total = 0
    for n in range(HISTORY):
        customer = f"c{int(rng.paretovariate(1.2)) % CUSTOMERS}"
        product = f"p{int(rng.paretovariate(1.1)) % PRODUCTS}"
        when = (start + timedelta(minutes=n * 20)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        recent = recent_of.get(customer, {})
        total += _items(records, _purchase(records, f"x{n}", customer, product, when), recent)
        recent_of[customer] = co.next_recent(product, when, recent)
    rows.append(
        {
            "section": "purchases",
            "name": f"transaction items per purchase, a simulated month ({HISTORY} purchases)",
            "value": total / HISTORY,
            "unit": "items",
            "baseline_name": "the same purchases without co-purchase counts",
            "baseline": WITHOUT,
            "ratio": total / HISTORY / WITHOUT,
            "note": f"{CUSTOMERS} customers and {PRODUCTS} products, Pareto-distributed (heavy buyers, best "
            "sellers); a repeat purchase within 30 days adds no pair",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
