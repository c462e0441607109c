"""The batched policy (what the nightly run calls for 100,000 series) gives every series exactly
what the one-series policy gives it alone: the same forecast, spread, level, quantity and
order-by date, bit for bit, whatever the mix of lengths, lead times, censored and idle days."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from integration.domain import replenishment
from integration.domain.replenishment_batch import plan_orders

TODAY = date(2026, 12, 1)
WIDTH = 120


def random_series(rng, count: int):
    """(matrix, starts, the one-series histories) of ``count`` lumpy, intermittent series."""
    matrix = np.full((count, WIDTH), np.nan)
    starts = rng.integers(0, WIDTH + 1, count)
    starts[: count // 2] = rng.integers(0, 30, count // 2)  # most series have most of the window
    histories = []
    for i in range(count):
        length = WIDTH - starts[i]
        rate = rng.choice([0.02, 0.1, 0.3, 0.7, 1.0])
        values = np.where(rng.random(length) < rate, rng.integers(1, 40, length), 0).astype(float)
        values[rng.random(length) < 0.03] = -1  # more returned than sold
        if rng.random() < 0.3:  # a censored or promotion stretch
            first = rng.integers(0, max(1, length))
            values[first:first + rng.integers(1, 60)] = np.nan
        if rng.random() < 0.05:
            values[:] = np.nan  # nothing known
        matrix[i, starts[i]:] = values
        histories.append([None if np.isnan(v) else float(v) for v in values])
    return matrix, starts, histories


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("level_index", [None, 0.0, 0.7, 1.4])
def test_every_series_gets_what_the_one_series_policy_gives_it(seed, level_index):
    rng = np.random.default_rng(seed)
    count = 300
    matrix, starts, histories = random_series(rng, count)
    on_hand = rng.integers(0, 300, count)
    reserved = rng.integers(0, 20, count)
    inbound = rng.integers(0, 50, count)
    lead = rng.choice([0, 3, 12, 33, 60, 125], count)
    uplift = rng.choice([0.0, 0.0, 0.5, -0.2], count)
    service = (0.5, 0.95, 0.99)[seed - 1]
    plans = plan_orders(matrix, starts, on_hand, reserved, inbound, lead, 7, service, uplift, today=TODAY,
                        level_index=level_index)
    for i, history in enumerate(histories):
        fc = replenishment.forecast(history)
        plan = replenishment.plan_order(history, int(on_hand[i]), int(reserved[i]), int(inbound[i]), int(lead[i]), 7,
                                        service, float(uplift[i]), today=TODAY, level_index=level_index)
        got = (float(plans.daily[i]), float(plans.sd[i]), int(plans.order_up_to[i]), int(plans.quantity[i]),
               plans.order_by[i])
        assert got == (fc.daily, fc.sd, plan.order_up_to, plan.quantity, plan.order_by), (i, history)


def test_levels_match_to_the_bit_not_only_after_rounding():
    rng = np.random.default_rng(7)
    matrix, starts, histories = random_series(rng, 400)
    lead = rng.choice([5, 12, 40], 400)
    plans = plan_orders(matrix, starts, np.zeros(400), np.zeros(400), np.zeros(400), lead, 7, 0.9,
                        np.full(400, 0.25), today=TODAY, level_index=1.1)
    for i, history in enumerate(histories):
        level, _ = replenishment.order_up_to_level(history, int(lead[i]), 7, 0.9, 0.25, level_index=1.1)
        assert float(plans.level[i]) == level, (i, history)


def test_an_empty_batch_and_a_refused_service_level():
    empty = plan_orders(np.zeros((0, WIDTH)), np.zeros(0, int), [], [], [], np.zeros(0, int), 7, 0.95, [],
                        today=TODAY)
    assert empty.order_by == [] and empty.quantity.size == 0
    with pytest.raises(ValueError):
        plan_orders(np.zeros((1, WIDTH)), [0], [0], [0], [0], [5], 7, 1.0, [0.0], today=TODAY)
