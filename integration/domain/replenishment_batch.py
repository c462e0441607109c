"""Nearstock's restock policy over many series at once: :func:`plan_orders` gives, for every row
of a demand matrix, exactly what :func:`replenishment.forecast` and
:func:`replenishment.plan_order` give for that series alone (tests/unit/test_replenishment_batch.py
holds them equal), at a fraction of the cost: the nightly run plans 100,000 series.

The series are rows of one float matrix (oldest day first, NaN = unknown: censored, promotion, or
before the series' first day), each starting at its own column (``starts``). The smoothings and
rolling means run once over all rows as coreforecast grouped arrays (the same compiled kernels the
one-series functions call); the per-series means, spreads and quantiles run once per group of
rows of equal length, which numpy reduces exactly as it reduces each row alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np
from coreforecast.grouped_array import GroupedArray

from integration.domain.replenishment import (
    ALPHA_PROBABILITY,
    ALPHA_SIZE,
    MAX_HISTORY_DAYS,
    MIN_WINDOWS,
    TOTALS_WINDOW_DAYS,
)


@dataclass(frozen=True)
class Plans:
    daily: np.ndarray  # forecast daily demand (replenishment.Forecast.daily)
    sd: np.ndarray  # its day-to-day spread (replenishment.Forecast.sd)
    level: np.ndarray  # replenishment.order_up_to_level's level
    order_up_to: np.ndarray  # int64
    quantity: np.ndarray  # int64, never negative
    order_by: list[date | None]


def _ragged(x: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row from its start column on, concatenated, and the row boundaries (indptr)."""
    keep = np.arange(x.shape[1])[None, :] >= starts[:, None]
    indptr = np.zeros(x.shape[0] + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return x[keep], indptr


def _last_ewm(x: np.ndarray, starts: np.ndarray, alpha: float) -> np.ndarray:
    """The last value of coreforecast's ``exponentially_weighted_mean(row[start:], skipna=True)``
    per row (rows with nothing from their start: NaN)."""
    data, indptr = _ragged(x, starts)
    out = np.full(x.shape[0], np.nan)
    if data.size:
        smoothed = GroupedArray(data, indptr, 1)._exponentially_weighted_mean(0, alpha, True)
        filled = indptr[1:] > indptr[:-1]
        out[filled] = smoothed[indptr[1:][filled] - 1]
    return out


def _first(mask: np.ndarray) -> np.ndarray:
    """Column of the first True per row (the row width when none)."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), mask.shape[1])


def _forecasts(x: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """replenishment._tsb and the spread of the known days, per row."""
    known = ~np.isnan(x) & (np.arange(x.shape[1])[None, :] >= starts[:, None])
    occurs = np.where(np.isnan(x), np.nan, (x > 0).astype(np.float64))
    probability = _last_ewm(occurs, _first(known), ALPHA_PROBABILITY)
    sizes = np.where(x > 0, x, np.nan)
    size = _last_ewm(sizes, _first(x > 0), ALPHA_SIZE)
    daily = np.where((x > 0).any(axis=1), probability * size, 0.0)
    sd = np.zeros(x.shape[0])
    counts = known.sum(axis=1)
    for count in np.unique(counts[counts > 1]):
        rows = np.flatnonzero(counts == count)
        sd[rows] = x[rows][known[rows]].reshape(rows.size, count).std(axis=1)
    return daily, sd


def _levels(x: np.ndarray, starts: np.ndarray, daily: np.ndarray, sd: np.ndarray, horizon: np.ndarray,
            service_level: float, scale: np.ndarray, level_index: float | None) -> np.ndarray:
    """replenishment.order_up_to_level's level per row (rows whose daily is 0 get 0)."""
    level = np.zeros(x.shape[0])
    z = NormalDist().inv_cdf(service_level)
    normal = scale * (daily * horizon + z * sd * np.sqrt(horizon))  # too few windows: the textbook level
    window_start = max(0, x.shape[1] - TOTALS_WINDOW_DAYS)
    for h in np.unique(horizon):
        rows = np.flatnonzero((horizon == h) & (daily > 0))
        if not rows.size:
            continue
        begin = np.maximum(starts[rows], window_start)
        long_enough = x.shape[1] - begin >= h
        level[rows] = normal[rows]
        rows, begin = rows[long_enough], begin[long_enough]
        if not rows.size:
            continue
        data, indptr = _ragged(x[rows], begin)
        means = GroupedArray(data, indptr, 1)._rolling_mean(0, int(h), max(1, (int(h) + 1) // 2), True)
        # The (h)-day totals: each row's complete windows (from its h-th day on) with enough known
        # days, moved to the left of a matrix row, in order (what the one-series function keeps).
        owner = np.repeat(np.arange(rows.size), np.diff(indptr))
        picked = np.flatnonzero((np.arange(data.size) - indptr[owner] >= h - 1) & ~np.isnan(means))
        picked_owner = owner[picked]
        counts = np.bincount(picked_owner, minlength=rows.size)
        totals = np.zeros((rows.size, int(counts.max(initial=0))))
        totals[picked_owner, np.arange(picked.size) - np.searchsorted(picked_owner, picked_owner)] = means[picked] * h
        for count in np.unique(counts[counts >= MIN_WINDOWS]):
            members = np.flatnonzero(counts == count)
            mine = totals[members, :count]  # a new C-ordered matrix: each row reduced as alone
            mean_total = mine.mean(axis=1)
            ok = mean_total > 0
            members, mine, mean_total = members[ok], mine[ok], mean_total[ok]
            target = rows[members]
            indexed = daily[target] * level_index if level_index is not None and level_index > 0 else daily[target]
            scaled = mine * (indexed * h / mean_total)[:, None]
            level[target] = scale[target] * np.quantile(scaled, service_level, axis=1)
    return level


def plan_orders(days: np.ndarray, starts: np.ndarray, on_hand: np.ndarray, reserved: np.ndarray,
                inbound: np.ndarray, lead_time_days: np.ndarray, review_days: int, service_level: float,
                uplift: np.ndarray, *, today: date, level_index: float | None = None) -> Plans:
    """:func:`replenishment.plan_order` (and its forecast) for every row of ``days``: row i is the
    series ``days[i, starts[i]:]`` (NaN: unknown day); the other arrays hold one value per row."""
    if not 0.0 < service_level < 1.0:
        raise ValueError("service_level must be between 0 and 1")
    x = np.asarray(days, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    if x.shape[1] > MAX_HISTORY_DAYS:
        cut = x.shape[1] - MAX_HISTORY_DAYS
        x, starts = x[:, cut:], np.maximum(starts - cut, 0)
    x = np.where(x < 0, 0.0, x)  # more returned than sold that day: no demand, not negative
    x[np.arange(x.shape[1])[None, :] < starts[:, None]] = np.nan  # before the series: not history
    lead = np.asarray(lead_time_days, dtype=np.int64)
    horizon = np.maximum(1, lead + review_days)
    uplift = np.maximum(0.0, np.asarray(uplift, dtype=np.float64))
    scale = 1.0 + uplift
    daily, sd = _forecasts(x, starts)
    level = _levels(x, starts, daily, sd, horizon, service_level, scale, level_index)
    order_up_to = np.ceil(level - 1e-9).astype(np.int64)
    position = np.asarray(on_hand, dtype=np.int64) - np.asarray(reserved, dtype=np.int64) + np.asarray(
        inbound, dtype=np.int64)
    quantity = np.maximum(0, order_up_to - position)
    expected = daily * scale
    order_by: list[date | None] = [None] * x.shape[0]
    for i in np.flatnonzero(expected > 0):
        safety = max(0.0, float(level[i]) - float(expected[i]) * (int(lead[i]) + review_days))
        days_left = math.floor(max(0.0, int(position[i]) - safety) / float(expected[i]))
        order_by[i] = today + timedelta(days=max(0, days_left - int(lead[i])))
    return Plans(daily=daily, sd=sd, level=level, order_up_to=order_up_to, quantity=quantity, order_by=order_by)
