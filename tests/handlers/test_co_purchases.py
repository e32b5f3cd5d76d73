"""The purchase processor's co-purchase core (``co_purchases``), without AWS: which products a purchase is
paired with, and the bounded ``recent`` map it leaves on the customer."""

import pytest

from conftest import load_handler

co = load_handler("purchase_processor", "co_purchases")

DAY1 = "2026-11-01T10:00:00.000Z"
DAY2 = "2026-11-02T10:00:00.000Z"
DAY40 = "2026-12-10T10:00:00.000Z"


def test_a_purchase_pairs_with_what_the_customer_bought_within_the_window_most_recent_first():
    recent = {"tea": DAY1, "mug": DAY2, "old-book": "2026-09-01T00:00:00.000Z"}
    assert co.co_products("milk", "2026-11-03T00:00:00.000Z", recent) == ["mug", "tea"]


def test_an_earlier_purchase_arriving_late_still_pairs_with_later_ones():
    assert co.co_products("tea", DAY1, {"mug": DAY2}) == ["mug"]


def test_buying_the_same_product_again_within_the_window_adds_no_pair():
    # one heavy buyer repeating a purchase must not inflate its pairs
    assert co.co_products("tea", DAY2, {"tea": DAY1, "mug": DAY1}) == []
    # after the window it is a new purchase of the product, paired with what is recent then
    assert co.co_products("tea", DAY40, {"tea": DAY1, "mug": "2026-12-09T00:00:00.000Z"}) == ["mug"]


def test_fan_out_is_capped_at_the_most_recent_products():
    recent = {f"p{n:02}": f"2026-11-01T10:{n:02}:00.000Z" for n in range(25)}
    others = co.co_products("new", "2026-11-01T11:00:00.000Z", recent)
    assert others == [f"p{n:02}" for n in range(24, 24 - co.FANOUT_CAP, -1)]


def test_recent_keeps_the_latest_time_per_product_drops_the_old_and_stays_bounded():
    recent = {"tea": DAY2, "old": "2026-09-01T00:00:00.000Z"}
    assert co.next_recent("tea", DAY1, recent) == {"tea": DAY2}
    many = {f"p{n:02}": f"2026-11-01T10:{n:02}:00.000Z" for n in range(30)}
    kept = co.next_recent("new", "2026-11-01T11:00:00.000Z", many)
    assert len(kept) == co.RECENT_CAP and "new" in kept and "p00" not in kept


@pytest.mark.parametrize("others", [[], ["mug"], ["mug", "tea"]])
def test_each_pair_is_counted_in_both_directions(others):
    def update(table, key, expression, values):
        return (table, key["pk"], key["sk"], expression)

    writes = co.pair_updates("milk", others, "T", update)
    assert sorted(w[1:3] for w in writes) == sorted(
        [("related#milk", o) for o in others] + [(f"related#{o}", "milk") for o in others]
    )
    assert all(w[3].startswith("ADD score :one") for w in writes)
