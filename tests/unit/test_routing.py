from hypothesis import given, settings
from hypothesis import strategies as st

from integration.domain.routing import Candidate, LineRequest, route

DE = Candidate(1, "Berlin", "DE", "EU", transit_days={"DE": [1, 2], "FR": [2, 4], "*": [4, 8]})
FR = Candidate(2, "Lyon", "FR", "EU", transit_days={"FR": [1, 2], "DE": [2, 3], "*": [4, 8]})
US = Candidate(3, "Los Angeles", "US", "NA", transit_days={"US": [2, 5], "*": [7, 14]})


def lines(*specs):
    return [LineRequest(i + 1, sku, qty) for i, (sku, qty) in enumerate(specs)]


def test_local_warehouse_with_stock_ships_everything():
    plan = route(lines(("A", 1), ("B", 2)), "DE", [FR, DE, US], {(1, "A"): 5, (1, "B"): 5, (2, "A"): 9, (2, "B"): 9})
    assert plan.warehouses == {1} and not plan.backordered
    assert "local warehouse" in plan.assignments[0].reason


def test_one_shipment_beats_a_local_split():
    # Berlin (local) has only A; Lyon has both: one parcel from Lyon.
    plan = route(lines(("A", 1), ("B", 1)), "DE", [DE, FR], {(1, "A"): 5, (2, "A"): 5, (2, "B"): 5})
    assert plan.warehouses == {2}


def test_fastest_transit_when_none_is_local():
    plan = route(lines(("A", 1)), "AT", [US, FR, DE], {(1, "A"): 1, (2, "A"): 1, (3, "A"): 1})
    assert plan.warehouses == {1}  # DE and FR both 4-8 to "*": priority tie, then id... by transit
    plan = route(lines(("A", 1)), "AT", [US, FR], {(2, "A"): 1, (3, "A"): 1})
    assert plan.warehouses == {2}  # 4-8 days beats 7-14


def test_merchant_priority_beats_transit_but_not_locality():
    slow_favourite = Candidate(4, "Prague", "CZ", "EU", priority=1, transit_days={"*": [5, 9]})
    plan = route(lines(("A", 1)), "AT", [FR, slow_favourite], {(2, "A"): 1, (4, "A"): 1})
    assert plan.warehouses == {4}
    plan = route(lines(("A", 1)), "FR", [FR, slow_favourite], {(2, "A"): 1, (4, "A"): 1})
    assert plan.warehouses == {2}


def test_exclusions():
    no_a = Candidate(1, "Berlin", "DE", excluded_skus=frozenset({"A"}))
    no_ch = Candidate(2, "Lyon", "FR", excluded_countries=frozenset({"CH"}))
    plan = route(lines(("A", 1)), "CH", [no_a, no_ch], {(1, "A"): 9, (2, "A"): 9})
    assert plan.warehouses == set() and plan.backordered[0].quantity == 1
    inactive = Candidate(5, "Closed", "DE", active=False)
    assert route(lines(("A", 1)), "DE", [inactive], {(5, "A"): 9}).backordered


def test_split_across_warehouses_then_backorder():
    plan = route(lines(("A", 10)), "DE", [DE, FR], {(1, "A"): 6, (2, "A"): 3}, split=True)
    shipped = {(a.warehouse_id, a.quantity) for a in plan.assignments if a.warehouse_id}
    assert shipped == {(1, 6), (2, 3)} and plan.backordered[0].quantity == 1


def test_no_split_policy_holds_lines_as_backordered():
    plan = route(lines(("A", 1), ("B", 1)), "DE", [DE, FR], {(1, "A"): 5, (2, "B"): 5}, split=False)
    assert plan.warehouses == {1}
    assert [(a.sku, a.quantity) for a in plan.backordered] == [("B", 1)]


@settings(max_examples=300, deadline=None)
@given(
    qty=st.lists(st.integers(1, 8), min_size=1, max_size=4),
    stock=st.lists(st.integers(0, 10), min_size=12, max_size=12),
    split=st.booleans(),
    country=st.sampled_from(["DE", "FR", "US", "JP"]),
)
def test_plan_is_complete_and_never_overdraws(qty, stock, split, country):
    skus = ["A", "B", "C", "D"][: len(qty)]
    req = [LineRequest(i, sku, q) for i, (sku, q) in enumerate(zip(skus, qty, strict=True))]
    cands = [DE, FR, US]
    available = {(c.id, sku): stock[i * 4 + j] for i, c in enumerate(cands) for j, sku in enumerate("ABCD")}
    plan = route(req, country, cands, available, split=split)
    for ln in req:  # every unit is either shipped or backordered, exactly once
        assert sum(a.quantity for a in plan.assignments if a.line_id == ln.line_id) == ln.quantity
    for (wid, sku), units in available.items():  # no warehouse gives more than it has
        assert sum(a.quantity for a in plan.assignments if a.warehouse_id == wid and a.sku == sku) <= units
    if not split:
        assert len(plan.warehouses) <= 1


def codes(plan):
    return sorted({(a.warehouse_id, a.code) for a in plan.assignments}, key=str)


def test_reason_codes_say_why_each_warehouse():
    # Local and in stock.
    assert codes(route(lines(("A", 1)), "DE", [DE, FR], {(1, "A"): 1, (2, "A"): 1})) == [(1, "local")]
    # Abroad: the only one holding the whole order (the local one has part of it).
    assert codes(route(lines(("A", 1), ("B", 1)), "DE", [DE, FR],
                       {(1, "A"): 5, (2, "A"): 5, (2, "B"): 5})) == [(2, "only_stock")]
    # Abroad, chosen among several that could.
    assert codes(route(lines(("A", 1)), "AT", [FR, DE], {(1, "A"): 1, (2, "A"): 1})) == [(1, "abroad")]
    # A merchant rule that excludes the other warehouse makes this one the only choice.
    barred = Candidate(2, "Lyon", "FR", "EU", excluded_countries=frozenset({"AT"}))
    assert codes(route(lines(("A", 1)), "AT", [barred, DE], {(1, "A"): 1, (2, "A"): 1})) == [(1, "only_stock")]
    # Several warehouses, and what nobody has.
    plan = route(lines(("A", 7)), "DE", [DE, FR], {(1, "A"): 3, (2, "A"): 2})
    assert codes(plan) == [(1, "split"), (2, "split"), (None, "backordered")]
    # No split allowed: one warehouse ships what it can, the rest waits.
    plan = route(lines(("A", 1), ("B", 1)), "DE", [DE, FR], {(1, "A"): 5, (2, "B"): 5}, split=False)
    assert codes(plan) == [(1, "local"), (None, "backordered")]
