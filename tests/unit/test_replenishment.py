"""The restock policy functions: censored days, intermittent demand, uplift, netting, seed rules."""

from datetime import date, timedelta

import pytest

from integration.domain.replenishment import (
    Forecast,
    first_stock,
    forecast,
    level_index,
    plan_order,
    textbook_order_up_to,
    turnover_policy,
)

TODAY = date(2026, 5, 4)
STEADY = [10.0, 12.0, 8.0, 11.0, 9.0, 10.0, 13.0, 7.0, 10.0, 10.0] * 12  # 120 days around 10/day


def test_a_censored_day_does_not_lower_the_forecast():
    censored = [*STEADY[:-5], None, None, None, None, None]
    as_zero = [*STEADY[:-5], 0.0, 0.0, 0.0, 0.0, 0.0]
    known_only = STEADY[:-5]
    assert forecast(censored).daily == pytest.approx(forecast(known_only).daily)
    assert forecast(as_zero).daily < forecast(censored).daily * 0.8


def test_a_censored_stretch_does_not_lower_the_order_up_to_level():
    censored = [*STEADY[:-10], *[None] * 10]
    as_zero = [*STEADY[:-10], *[0.0] * 10]
    full = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    skipped = plan_order(censored, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    zeroed = plan_order(as_zero, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    assert skipped.order_up_to >= full.order_up_to * 0.95
    assert zeroed.order_up_to < skipped.order_up_to


def test_an_intermittent_series_gets_a_sensible_non_zero_forecast():
    # 5 units every 4th day: 1.25 a day on average, three days in four without a sale
    history = [0.0, 0.0, 0.0, 5.0] * 40
    fc = forecast(history)
    assert 0.9 < fc.daily < 1.6
    plan = plan_order(history, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    assert plan.order_up_to >= 1.25 * 18  # at least the expected demand over lead time + review


def test_a_product_that_stopped_selling_decays_towards_zero():
    stopped = [*STEADY, *[0.0] * 90]
    assert forecast(stopped).daily < forecast(STEADY).daily * 0.1


def test_no_known_day_forecasts_nothing_and_orders_nothing():
    assert forecast([None, None]) == Forecast(daily=0.0, sd=0.0)
    assert forecast([]) == Forecast(daily=0.0, sd=0.0)
    plan = plan_order([None, 0.0, 0.0], 3, 0, 0, 12, 6, 0.95, today=TODAY)
    assert plan.order_up_to == 0 and plan.quantity == 0 and plan.order_by is None


def test_a_30_percent_uplift_raises_the_order_up_to_level():
    base = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    promo = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, uplift=0.3, today=TODAY)
    assert promo.order_up_to == pytest.approx(base.order_up_to * 1.3, abs=1)
    assert promo.quantity > base.quantity


def test_the_level_index_is_recent_pooled_demand_over_the_trailing_window():
    flat = [100.0] * 120
    assert level_index(flat) == pytest.approx(1.0)
    rising = [100.0] * 96 + [190.0] * 24  # the last four weeks up 90 %: trailing mean 118
    assert level_index(rising) == pytest.approx(190 / 118)
    assert level_index([0.0] * 200 + rising) == pytest.approx(190 / 118)  # older days: not read
    assert level_index([100.0] * 23) is None  # too little history
    assert level_index([0.0] * 120) is None  # no demand: no season


def test_the_shops_level_index_scales_the_order_up_to_level():
    base = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    season = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY, level_index=1.4)
    quiet = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY, level_index=0.8)
    assert season.order_up_to == pytest.approx(base.order_up_to * 1.4, abs=1)
    assert quiet.order_up_to == pytest.approx(base.order_up_to * 0.8, abs=1)
    assert plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY, level_index=None) == base


def test_the_quantity_is_net_of_on_hand_reserved_and_inbound():
    level = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY).order_up_to
    plan = plan_order(STEADY, 100, 30, 50, 12, 6, 0.95, today=TODAY)
    assert plan.order_up_to == level
    assert plan.quantity == level - (100 - 30 + 50)
    assert plan_order(STEADY, level + 40, 0, 0, 12, 6, 0.95, today=TODAY).quantity == 0  # never negative


def test_a_higher_service_target_holds_more():
    levels = [plan_order(STEADY, 0, 0, 0, 12, 6, s, today=TODAY).order_up_to for s in (0.5, 0.9, 0.99)]
    assert levels[0] < levels[1] <= levels[2]
    assert levels[0] >= 10 * 18 * 0.8


def test_order_by_is_the_last_day_that_arrives_before_the_position_reaches_safety_stock():
    plan_empty = plan_order(STEADY, 0, 0, 0, 12, 6, 0.95, today=TODAY)
    assert plan_empty.order_by == TODAY  # nothing held: order now
    # enough for ~60 days at ~10/day: ordering can wait until 12 days before it runs down to safety
    plan = plan_order(STEADY, 800, 0, 0, 12, 6, 0.95, today=TODAY)
    assert plan.quantity == 0
    assert TODAY + timedelta(days=30) < plan.order_by < TODAY + timedelta(days=80)
    later = plan_order(STEADY, 800, 0, 0, 5, 6, 0.95, today=TODAY)
    assert later.order_by > plan.order_by  # a shorter lead time leaves more time to order


def test_service_level_out_of_range_is_refused():
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            plan_order(STEADY, 0, 0, 0, 12, 6, bad, today=TODAY)


def test_negative_days_count_as_no_demand():
    assert forecast([-4.0, 2.0, 2.0]).daily == pytest.approx(forecast([0.0, 2.0, 2.0]).daily)


def test_first_stock_is_test_daily_times_three_plus_daily_times_transit_days():
    assert first_stock(4.0, 21) == 4 * 3 + 4 * 21
    assert first_stock(2.5, 10) == 33  # 7.5 + 25 = 32.5, rounded up
    assert first_stock(0.0, 30) == 0
    with pytest.raises(ValueError):
        first_stock(-1.0, 5)


def test_turnover_rule():
    assert turnover_policy(100, 250, 100) == 130  # turnover 2.5 > 2: +30 %
    assert turnover_policy(100, 80, 100) == 50  # turnover 0.8 < 1: -50 %
    assert turnover_policy(100, 150, 100) == 100  # between 1 and 2: unchanged
    assert turnover_policy(100, 200, 100) == 100  # exactly 2 is not above 2
    assert turnover_policy(100, 10, 0) == 130  # sold from nothing held: turnover unbounded
    assert turnover_policy(100, 0, 0) == 100


def test_textbook_level_is_mean_times_horizon_plus_z_sigma_root_horizon():
    history = [10.0, 14.0] * 50  # mean 12, sd 2
    # z(0.9) = 1.2816: 12 * 16 + 1.2816 * 2 * 4 = 202.25
    assert textbook_order_up_to(history, 10, 6, 0.9) == 203
    assert textbook_order_up_to([None, None], 10, 6, 0.9) == 0
