"""The pure loyalty rules: earning, lots FIFO, tiers, reversal targets, calendar, codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integration.domain import loyalty as d

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_earn_points_rate_local_multiplier_and_tier():
    rules = d.ProgramRules(enabled=True, points_per_currency=Decimal(1), local_multiplier=Decimal(2))
    assert d.earn_points(Decimal("25.00"), rules, local=False) == 25
    assert d.earn_points(Decimal("25.00"), rules, local=True) == 50
    assert d.earn_points(Decimal("25.99"), rules, local=True, tier_multiplier=Decimal("1.5")) == 77  # 77.97 down
    assert d.earn_points(Decimal("0"), rules, local=True) == 0
    assert d.earn_points(Decimal("-5"), rules, local=True) == 0


def test_local_is_the_shipping_country():
    assert d.is_local("DE", "de") and not d.is_local("NL", "DE")
    assert not d.is_local(None, "DE") and not d.is_local("DE", None)


@given(st.lists(st.integers(0, 50), max_size=30), st.integers(0, 400), st.data())
def test_consume_fifo_takes_oldest_first_and_exactly(remaining, points, data):
    lots = [d.Lot(i + 1, r) for i, r in enumerate(remaining)]
    prefer = data.draw(st.one_of(st.none(), st.sampled_from([lot.id for lot in lots]) if lots else st.none()))
    if points > sum(remaining):
        with pytest.raises(d.InsufficientLotsError):
            d.consume_fifo(lots, points, prefer)
        return
    takes = d.consume_fifo(lots, points, prefer)
    assert sum(t for _, t in takes) == points
    by_id = {lot.id: lot.remaining for lot in lots}
    assert all(0 < t <= by_id[i] for i, t in takes)
    others = [i for i, _ in takes if i != prefer]
    assert others == sorted(others)  # oldest first
    if prefer is not None and takes and by_id[prefer]:
        assert takes[0][0] == prefer
    # Every lot older than the last one touched (prefer aside) was emptied.
    if others:
        taken = dict(takes)
        for lot in lots:
            if lot.id < others[-1] and lot.id != prefer:
                assert taken.get(lot.id, 0) == lot.remaining


def test_evaluate_tier_picks_the_highest_reached():
    tiers = [d.TierRule(1, "Silver", Decimal(100)), d.TierRule(2, "Gold", Decimal(500)), d.TierRule(3, "Base", 0)]
    assert d.evaluate_tier(tiers, Decimal(0)).name == "Base"
    assert d.evaluate_tier(tiers, Decimal(499)).name == "Silver"
    assert d.evaluate_tier(tiers, Decimal(500)).name == "Gold"
    assert d.evaluate_tier(tiers[:2], Decimal(5)) is None
    assert d.is_upgrade(tiers[0], tiers[1]) and not d.is_upgrade(tiers[1], tiers[0]) and d.is_upgrade(None, tiers[0])


def test_window_is_twelve_calendar_months():
    assert d.month_index(T0) - d.window_start(T0) == 11
    assert d.window_start(datetime(2026, 12, 31, tzinfo=UTC)) == d.month_index(datetime(2026, 1, 1, tzinfo=UTC))


earn_lines = st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 5), st.integers(1, 5000)), min_size=1,
                      max_size=3)


@st.composite
def orders(draw):
    earns = []
    for i in range(draw(st.integers(1, 3))):
        lines = tuple(d.EarnLine(sku, q, Decimal(v) / 100) for sku, q, v in draw(earn_lines))
        amount = sum((line.value for line in lines), Decimal(0))
        earns.append(d.Earned(i + 1, draw(st.integers(0, 2000)), amount, T0 + timedelta(days=i), lines))
    refunds = [d.RefundInfo(T0 + timedelta(days=draw(st.integers(-1, 5))),
                            tuple(draw(st.lists(st.tuples(st.sampled_from("ABCD"), st.integers(0, 6)), max_size=3))),
                            Decimal(draw(st.integers(0, 20000))) / 100)
               for _ in range(draw(st.integers(0, 4)))]
    return earns, refunds


@given(orders())
def test_reversal_targets_never_exceed_the_earn_and_grow_with_refunds(case):
    earns, refunds = case
    full = d.reversal_targets(earns, refunds, cancelled=False)
    for e in earns:
        points, value = full[e.id]
        assert 0 <= points <= e.points and Decimal(0) <= value <= e.amount + Decimal("0.01")
    # Monotone: fewer refunds never take back more; repeating one is not the same as a new one,
    # but dropping one can only lower the targets.
    for k in range(len(refunds)):
        fewer = d.reversal_targets(earns, refunds[:k], cancelled=False)
        assert all(fewer[e.id][0] <= full[e.id][0] for e in earns)
    assert d.reversal_targets(earns, refunds, cancelled=True) == {e.id: (e.points, e.amount) for e in earns}


def test_reversal_targets_by_units_and_by_time():
    lines = (d.EarnLine("A", 2, Decimal("20.00")), d.EarnLine("B", 1, Decimal("30.00")))
    earn = d.Earned(1, 100, Decimal("50.00"), T0, lines)
    half_a = d.RefundInfo(T0 + timedelta(days=3), (("A", 1),))
    assert d.reversal_targets([earn], [half_a], cancelled=False) == {1: (20, Decimal("10.00"))}
    everything = d.RefundInfo(T0 + timedelta(days=3), (("A", 5), ("B", 1)))
    assert d.reversal_targets([earn], [everything], cancelled=False) == {1: (100, Decimal("50.00"))}
    before_shipping = d.RefundInfo(T0 - timedelta(hours=1), (("A", 1),))  # never shipped, never earned
    assert d.reversal_targets([earn], [before_shipping], cancelled=False) == {1: (0, Decimal("0.00"))}
    by_amount = d.RefundInfo(T0 + timedelta(days=1), amount=Decimal("25.00"), order_total=Decimal("50.00"))
    assert d.reversal_targets([earn], [by_amount], cancelled=False) == {1: (50, Decimal("25.00"))}


def test_birthdays_and_member_days():
    assert d.parse_birthday("1990-07-14") == "07-14" and d.parse_birthday("02-29") == "02-29"
    for bad in ("13-01", "02-30", "7-14", "abcde"):
        with pytest.raises(ValueError):
            d.parse_birthday(bad)
    assert d.birthday_keys(date(2027, 2, 28)) == ("02-28", "02-29")  # not a leap year
    assert d.birthday_keys(date(2028, 2, 28)) == ("02-28",)
    now = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
    assert d.member_day_window([15], now) == (datetime(2026, 4, 15, tzinfo=UTC), datetime(2026, 4, 16, tzinfo=UTC))
    assert d.member_day_window([20], now) is None
    assert d.member_day_window([31], datetime(2026, 4, 30, 12, tzinfo=UTC)) is None  # April has no 31st
    assert d.member_day_window(["2026-04-14"], now)[0].day == 14
    assert d.member_day_window([1], datetime(2026, 12, 31, 6, tzinfo=UTC))[0] == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        d.validate_member_days([0])


def test_reward_codes_are_fixed_per_reward_and_secret():
    a = d.reward_code("s1", "acme.myshopify.com", "reward", 7)
    assert a == d.reward_code("s1", "acme.myshopify.com", "reward", 7) and a.startswith("NSR-") and len(a) == 16
    assert a != d.reward_code("s1", "acme.myshopify.com", "reward", 8)
    assert a != d.reward_code("s2", "acme.myshopify.com", "reward", 7)
