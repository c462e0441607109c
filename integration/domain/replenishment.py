"""How much to restock, and by when: pure policy functions over one SKU x warehouse's daily demand.

History is daily net demand, oldest first. ``None`` (or NaN) marks a censored day: the SKU had
nothing available, so what shoppers wanted is unknown. Censored days are skipped, never read as
zero: a sell-out would otherwise teach the forecast that nobody wants the product.

* :func:`forecast`: TSB (Teunter-Syntetos-Babai) for intermittent demand: an exponentially smoothed
  probability that a day has demand times the smoothed size of the days that do. Unlike Croston it
  updates the probability on every observed day, so a product that stops selling decays to zero
  instead of holding its last level. Both smoothings are coreforecast's
  ``exponentially_weighted_mean`` with ``skipna`` (the censored days carry the last state).
* :func:`plan_order`: Nearstock's policy. The order-up-to level is a quantile (the service level)
  of the demand over lead time + review period, read from the last 120 days' own (L+R)-day totals
  (so lumps, idle stretches and their clustering are kept as they were, not flattened into a
  normal curve; a window with censored days counts its known days' mean), rescaled to the
  current TSB level, times the shop's ``level_index`` when the caller passes one. The service
  level is the share of review cycles fully covered: equal quantiles give every series the same
  chance that one more unit is used, which spends stock where it ships most. (A per-series
  fill-rate target was measured too: it spends far more stock on lumpy series for the same
  overall fill; see bench/replenishment.py.)
* :func:`level_index`: the season of a whole shop: its pooled demand (every SKU and warehouse) of
  the last four weeks over its trailing 120 days. One SKU's history is too sparse to see the
  season turn in time; the sum of all of them shows it weeks earlier (bench/replenishment.py: it
  moves the stock-vs-fill curve, where windows, fits and per-series targets only move along it).
* :func:`textbook_order_up_to`: mean·(L+R) + z·sd·√(L+R), the normal-demand formula, for comparison.
* :func:`first_stock` and :func:`turnover_policy`: the seed's rules, offered as explicit policies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np
from coreforecast.exponentially_weighted import exponentially_weighted_mean
from coreforecast.rolling import rolling_mean

ALPHA_SIZE = 0.05  # smoothing of the demand size on days with demand (TSB alpha_d)
ALPHA_PROBABILITY = 0.05  # smoothing of the probability that a day has demand (TSB alpha_p)
MIN_WINDOWS = 20  # fewer (L+R)-day totals than this: too little history for an empirical tail
MAX_HISTORY_DAYS = 730
# The demand totals come from the last 120 days: recent enough to follow the season, long enough
# for ~100 overlapping totals (bench/replenishment.py: 60 days cannot reach high fill rates, 180 or
# the whole history hold more stock for the same fill).
TOTALS_WINDOW_DAYS = 120
# The level index: the pooled demand of the last four weeks over the trailing 120 days
# (bench/replenishment.py: 12-30 recent days over 120-240 trailing ones measure about the same).
INDEX_RECENT_DAYS = 24
INDEX_TRAILING_DAYS = 120


@dataclass(frozen=True)
class Forecast:
    daily: float  # expected units per day
    sd: float  # standard deviation of one day's demand (observed days)


@dataclass(frozen=True)
class Plan:
    order_up_to: int
    quantity: int  # never negative
    order_by: date | None  # None: nothing to order while no demand is expected


def _days(history: Sequence[float | None]) -> np.ndarray:
    x = np.asarray(history, dtype=np.float64)[-MAX_HISTORY_DAYS:]  # None -> NaN
    return np.where(x < 0, 0.0, x)  # more returned than sold that day: no demand, not negative


def _tsb(x: np.ndarray) -> tuple[float, np.ndarray]:
    observed = ~np.isnan(x)
    if not observed.any():
        return 0.0, x[observed]
    values = x[observed]
    first = np.flatnonzero(observed)[0]  # the smoothing starts at the first known day
    x = x[first:]
    occurs = np.where(np.isnan(x), np.nan, (x > 0).astype(np.float64))
    probability = exponentially_weighted_mean(occurs, ALPHA_PROBABILITY, skipna=True)[-1]
    sizes = np.where(x > 0, x, np.nan)
    if not (sizes > 0).any():
        return 0.0, values
    first_size = np.flatnonzero(sizes > 0)[0]
    size = exponentially_weighted_mean(sizes[first_size:], ALPHA_SIZE, skipna=True)[-1]
    return float(probability * size), values


def forecast(history: Sequence[float | None]) -> Forecast:
    """Expected daily demand and its day-to-day spread; censored days are skipped."""
    x = _days(history)
    daily, observed = _tsb(x)
    sd = float(observed.std()) if observed.size > 1 else 0.0
    return Forecast(daily=daily, sd=sd)


def _horizon_totals(x: np.ndarray, horizon: int) -> np.ndarray:
    """Every (horizon)-day demand total in the history; a window with censored days counts its
    known days' mean times the horizon (at least half the window must be known)."""
    if x.size < horizon:
        return np.empty(0)
    means = rolling_mean(x, horizon, min_samples=max(1, (horizon + 1) // 2), skipna=True)[horizon - 1:]
    return means[~np.isnan(means)] * horizon


def level_index(pooled: Sequence[float]) -> float | None:
    """The season of a whole shop (or market): its pooled daily demand over the last
    ``INDEX_RECENT_DAYS`` over the trailing ``INDEX_TRAILING_DAYS`` (oldest first, up to yesterday).
    Summed over every SKU, demand is smooth enough to show the season turning weeks before one
    sparse SKU's history does. None while there is too little history or no demand."""
    x = np.nan_to_num(np.asarray(pooled, dtype=np.float64)[-INDEX_TRAILING_DAYS:], nan=0.0)
    if x.size < INDEX_RECENT_DAYS:
        return None
    trailing = float(x.mean())
    return float(x[-INDEX_RECENT_DAYS:].mean()) / trailing if trailing > 0 else None


def order_up_to_level(history: Sequence[float | None], lead_time_days: int, review_days: int,
                      service_level: float, uplift: float = 0.0, *,
                      level_index: float | None = None) -> tuple[float, Forecast]:
    """Units to hold (on hand + inbound - reserved) after ordering, and the forecast behind it."""
    if not 0.0 < service_level < 1.0:
        raise ValueError("service_level must be between 0 and 1")
    x = _days(history)
    daily, observed = _tsb(x)
    sd = float(observed.std()) if observed.size > 1 else 0.0
    fc = Forecast(daily=daily, sd=sd)
    horizon = max(1, lead_time_days + review_days)
    scale = 1.0 + max(0.0, uplift)
    if daily <= 0:
        return 0.0, fc
    totals = _horizon_totals(x[-TOTALS_WINDOW_DAYS:], horizon)
    mean_total = float(totals.mean()) if totals.size else 0.0
    if totals.size < MIN_WINDOWS or mean_total <= 0:
        z = NormalDist().inv_cdf(service_level)
        return scale * (daily * horizon + z * sd * math.sqrt(horizon)), fc
    if level_index is not None and level_index > 0:
        daily *= level_index  # the shop's season, seen in its pooled demand before any one SKU's
    totals = totals * (daily * horizon / mean_total)  # the recent shape at today's level
    return scale * float(np.quantile(totals, service_level)), fc


def plan_order(history: Sequence[float | None], on_hand: int, reserved: int, inbound: int,
               lead_time_days: int, review_days: int, service_level: float, uplift: float = 0.0,
               *, today: date | None = None, level_index: float | None = None) -> Plan:
    """Nearstock's restock plan for one SKU x warehouse.

    ``quantity`` tops the position (on hand - reserved + inbound) up to ``order_up_to``.
    ``order_by`` is the last day to order so the goods arrive before the projected position falls
    to the safety stock (the part of the level above the expected lead-time + review demand).
    """
    level, fc = order_up_to_level(history, lead_time_days, review_days, service_level, uplift,
                                  level_index=level_index)
    order_up_to = math.ceil(level - 1e-9)
    position = on_hand - reserved + inbound
    quantity = max(0, order_up_to - position)
    daily = fc.daily * (1.0 + max(0.0, uplift))
    if daily <= 0:
        return Plan(order_up_to=order_up_to, quantity=quantity, order_by=None)
    safety = max(0.0, level - daily * (lead_time_days + review_days))
    days_left = math.floor(max(0.0, position - safety) / daily)
    today = today or date.today()
    return Plan(order_up_to=order_up_to, quantity=quantity,
                order_by=today + timedelta(days=max(0, days_left - lead_time_days)))


def textbook_order_up_to(history: Sequence[float | None], lead_time_days: int, review_days: int,
                         service_level: float) -> int:
    """mean·(L+R) + z·sd·√(L+R): mean and standard deviation of the known days, normal demand."""
    x = _days(history)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return 0
    horizon = lead_time_days + review_days
    z = NormalDist().inv_cdf(service_level)
    return max(0, math.ceil(float(x.mean()) * horizon + z * float(x.std()) * math.sqrt(horizon) - 1e-9))


def first_stock(test_daily: float, transit_days: int) -> int:
    """The seed's first stock for a new market: test-period daily sales x 3 + safety stock, the
    safety stock being daily sales x transit days."""
    if test_daily < 0 or transit_days < 0:
        raise ValueError("test_daily and transit_days must not be negative")
    return math.ceil(test_daily * 3 + test_daily * transit_days - 1e-9)


def turnover_policy(level: float, sold_30_days: float, average_stock: float) -> int:
    """The seed's turnover rule on a stock level: monthly turnover (units sold over the last 30
    days / average stock) above 2 raises it 30 %, below 1 cuts it 50 %."""
    if level < 0 or sold_30_days < 0 or average_stock < 0:
        raise ValueError("level, sold_30_days and average_stock must not be negative")
    if average_stock == 0:
        factor = 1.3 if sold_30_days > 0 else 1.0  # sold with nothing held: turnover unbounded
    else:
        turnover = sold_30_days / average_stock
        factor = 1.3 if turnover > 2 else 0.5 if turnover < 1 else 1.0
    return math.ceil(level * factor - 1e-9)
