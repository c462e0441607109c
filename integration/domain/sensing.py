"""Market sensing on one SKU x warehouse: velocity shifts, days of cover, stock alerts, transfers.

Pure functions (no framework): :mod:`integration.insights.sensing` reads the rows and writes what
these decide. A history is the daily net demand (units - cancelled), oldest first, ending with the
last complete day; ``None`` marks a censored day (nothing was available: demand unknown, never 0).

Velocity shift: the recent window (default 14 days) against the trailing baseline before it
(default 56 days), judged week by week so one spike is not a shift:

* rise: EVERY week of the recent window sells at least ``rise_pct`` (30 %) above the baseline;
* fall: the last two weeks each sell at least ``fall_pct`` (20 %) under the baseline ("two
  consecutive weeks of falling volume").

A week with too few known days (stock-outs) cannot be judged, so no shift is raised from it: a
stock-out must not read as a fall. A shift ends with hysteresis (the latest week back within half
the threshold), so a series on the edge does not open and close a shift every night.

Noise: on a slow, intermittent series (a sale on a third of the days, a few units each) two weeks
30 % above or 20 % under the baseline happen by chance all the time (about 30 % of such series
every night, with nothing changed). So a shift is raised only when the change is both large (the
percentage rule above, the merchant's threshold) and unlikely to be noise (``ShiftRule.alpha``,
one-sided, per direction). The test is the conditional test of two Poisson rates on the known
(uncensored) days of both windows: given the ``n`` units sold, the recent window's ``R`` would be
``Binomial(n, p0)`` with ``p0`` = recent known days / all known days if the rate had not changed;
we ask whether ``R`` is further from ``n * p0`` than ``z(alpha)`` standard deviations (normal
approximation, half a unit of continuity correction). Units are not Poisson (an order of 6 is six
units at once; one order of 50 is a lump, not a trend), so the variance is inflated by the
series' own dispersion index (variance / mean of its known days, both windows pooled as the "no
change" hypothesis has it, never below 1): a quasi-Poisson score test, which is the two-sample
test of the daily means with that pooled variance. Why units and not demand days: a busy series
sells every day, so a rise from 10 to 13 a day shows in its units only. Why "rate unchanged" and
not "ratio within the threshold": the percentage rule already holds the size; testing against the
threshold too would miss a true 30 % rise however busy the series (it sits on that hypothesis'
edge), so the merchant's 30 % would silently become 50 % or more. The test
is a formula of five sums per series, the same in :func:`detect_shift` and :func:`detect_shifts`
(:func:`_beyond_noise` serves both).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from integration.domain.stock_status import add_business_days

RISE, FALL = "rise", "fall"
DEFAULT_TRANSFER_DAYS = 5  # "local transfer, 3-5 days": the slow end when the warehouse says nothing
WEEK = 7


@dataclass(frozen=True)
class ShiftRule:
    recent_days: int = 14
    baseline_days: int = 56
    rise_pct: float = 30.0
    fall_pct: float = 20.0
    min_known_per_week: int = 4  # of 7: a week with more censored days than this is not judged
    min_units: float = 10.0  # a shift needs this many units in the window it compares (noise floor)
    # One-sided significance of the change against "the rate did not change" (None: the
    # percentage rule alone): at 0.01, about 1.5 % of slow series with no change raise a shift.
    alpha: float | None = 0.01


DEFAULT_RULE = ShiftRule()


@dataclass(frozen=True)
class Shift:
    direction: str  # RISE | FALL
    change_pct: float  # recent over baseline, -100..inf
    baseline_daily: float
    recent_daily: float


def _mean(days: Sequence[float | None]) -> tuple[float | None, int]:
    known = [float(d) for d in days if d is not None]
    return (sum(known) / len(known) if known else None), len(known)


def _windows(history: Sequence[float | None], rule: ShiftRule):
    """(baseline daily mean, recent daily mean, weekly means of the recent window), or None when
    the history is too short or too censored to judge."""
    if rule.recent_days < WEEK or rule.baseline_days < WEEK or len(history) < rule.recent_days + rule.baseline_days:
        return None
    recent = list(history[-rule.recent_days:])
    baseline = list(history[-rule.recent_days - rule.baseline_days:-rule.recent_days])
    base_mean, base_known = _mean(baseline)
    if base_mean is None or base_known < rule.baseline_days * rule.min_known_per_week / WEEK:
        return None
    weeks = []
    # Whole weeks counted back from the last day (a remainder at the window's start is skipped).
    for end in range(len(recent), WEEK - 1, -WEEK):
        mean, known = _mean(recent[end - WEEK:end])
        if mean is None or known < rule.min_known_per_week:
            return None
        weeks.insert(0, mean)
    recent_mean, _ = _mean(recent)
    return base_mean, recent_mean, weeks, baseline, recent


def _change_pct(baseline: float, recent: float) -> float:
    return round((recent - baseline) / baseline * 100.0, 1)


@lru_cache(maxsize=16)
def _critical_z(alpha: float) -> float:
    return NormalDist().inv_cdf(1.0 - alpha)


def _beyond_noise(direction: str, recent_sum, recent_known, base_sum, base_known, squares, rule: ShiftRule):
    """Whether the recent window's units (``recent_sum`` over ``recent_known`` known days) are
    significantly above (RISE) or under (FALL) what the baseline's rate predicts: the
    overdispersed conditional binomial test of the module docstring. ``squares``: the sum of the
    squared days of both windows. Floats or numpy arrays alike, one formula for both callers, so
    :func:`detect_shift` and :func:`detect_shifts` agree (integer-valued days: exact sums)."""
    if rule.alpha is None:
        return True
    total = recent_sum + base_sum
    share = recent_known / np.maximum(recent_known + base_known, 1)
    expected = total * share
    # Variance / mean of the known days (pooled: no change is the hypothesis), never under Poisson's.
    dispersion = np.maximum(1.0, squares / np.maximum(total, 1) - total / np.maximum(recent_known + base_known, 1))
    sd = np.sqrt(dispersion * total * share * (1.0 - share))  # (the maxima above: no division by 0)
    gap = recent_sum - expected if direction == RISE else expected - recent_sum
    return (total > 0) & (gap - 0.5 >= _critical_z(rule.alpha) * sd)


def detect_shift(history: Sequence[float | None], rule: ShiftRule = DEFAULT_RULE) -> Shift | None:
    """The shift the history shows today, or None (none, or not enough known days to say)."""
    found = _windows(history, rule)
    if found is None:
        return None
    base, recent_mean, weeks, baseline, recent = found
    if base <= 0:
        return None  # nothing sold before: a first sale is a launch, not a velocity shift
    recent_days = [d for d in recent if d is not None]
    base_days = [d for d in baseline if d is not None]
    known_recent, known_base = sum(recent_days), sum(base_days)
    sums = (known_recent, len(recent_days), known_base, len(base_days), sum(d * d for d in recent_days + base_days))
    if known_recent >= rule.min_units and all(w >= base * (1 + rule.rise_pct / 100) for w in weeks) and \
            _beyond_noise(RISE, *sums, rule):
        return Shift(RISE, _change_pct(base, recent_mean), round(base, 3), round(recent_mean, 3))
    last_two = weeks[-2:]
    if len(last_two) == 2 and known_base >= rule.min_units and all(
            w <= base * (1 - rule.fall_pct / 100) for w in last_two) and _beyond_noise(FALL, *sums, rule):
        return Shift(FALL, _change_pct(base, recent_mean), round(base, 3), round(recent_mean, 3))
    return None


def detect_shifts(histories: np.ndarray, rule: ShiftRule = DEFAULT_RULE) -> np.ndarray:
    """:func:`detect_shift`'s direction for every row of a matrix (NaN: censored day) at once:
    RISE, FALL or "" per row. The same sums and comparisons, over integer-valued days, so the same
    answers (tests/unit/test_sensing.py holds them equal); the nightly run senses 100,000 series."""
    x = np.asarray(histories, dtype=np.float64)
    out = np.full(x.shape[0], "", dtype=object)
    if rule.recent_days < WEEK or rule.baseline_days < WEEK or x.shape[1] < rule.recent_days + rule.baseline_days:
        return out
    known = ~np.isnan(x)
    values = np.where(known, x, 0.0)
    baseline = slice(x.shape[1] - rule.recent_days - rule.baseline_days, x.shape[1] - rule.recent_days)
    base_known = known[:, baseline].sum(axis=1)
    base_sum = values[:, baseline].sum(axis=1)
    judged = (base_known > 0) & (base_known >= rule.baseline_days * rule.min_known_per_week / WEEK)
    base = np.where(judged, base_sum / np.maximum(base_known, 1), 0.0)
    weeks = []
    for end in range(x.shape[1], x.shape[1] - rule.recent_days + WEEK - 1, -WEEK):
        week_known = known[:, end - WEEK:end].sum(axis=1)
        judged &= week_known >= rule.min_known_per_week
        weeks.insert(0, values[:, end - WEEK:end].sum(axis=1) / np.maximum(week_known, 1))
    judged &= base > 0  # nothing sold before: a first sale is a launch, not a velocity shift
    week_means = np.stack(weeks, axis=1)
    known_recent = values[:, -rule.recent_days:].sum(axis=1)
    window = slice(baseline.start, None)
    sums = (known_recent, known[:, -rule.recent_days:].sum(axis=1), base_sum, base_known,
            (values[:, window] ** 2).sum(axis=1))
    rise = judged & (known_recent >= rule.min_units) & (
        week_means >= (base * (1 + rule.rise_pct / 100))[:, None]).all(axis=1) & _beyond_noise(RISE, *sums, rule)
    fall = judged & ~rise & (week_means.shape[1] >= 2) & (base_sum >= rule.min_units) & (
        week_means[:, -2:] <= (base * (1 - rule.fall_pct / 100))[:, None]).all(axis=1) & _beyond_noise(
        FALL, *sums, rule)
    out[rise], out[fall] = RISE, FALL
    return out


def shift_ended(direction: str, history: Sequence[float | None], rule: ShiftRule = DEFAULT_RULE) -> bool:
    """True when an open shift of ``direction`` is over: the latest week is back within half the
    threshold of the baseline. Unknown (too short, censored) is not over."""
    if direction not in (RISE, FALL):
        raise ValueError(f"unknown direction {direction!r}")
    found = _windows(history, rule)
    if found is None:
        return False
    base, _recent_mean, weeks, _baseline, _recent = found
    latest = weeks[-1]
    if direction == RISE:
        return latest < base * (1 + rule.rise_pct / 200)
    return latest > base * (1 - rule.fall_pct / 200)


# -- cover and stock alerts ------------------------------------------------------------------------


def days_of_cover(available: int, forecast_daily: float) -> float | None:
    """Days the available stock lasts at the forecast rate; None when nothing is expected to sell."""
    if forecast_daily is None or forecast_daily <= 0:
        return None
    return round(max(0, available) / forecast_daily, 2)


LOW_STOCK, STOCK_OUT = "low_stock", "stock_out"


def stock_alert(available: int, forecast_daily: float, lead_time_days: int) -> str | None:
    """STOCK_OUT (nothing available, demand expected), LOW_STOCK (cover below the lead time: a
    restock ordered today arrives after it runs out) or None."""
    cover = days_of_cover(available, forecast_daily)
    if cover is None:
        return None
    if available <= 0:
        return STOCK_OUT
    return LOW_STOCK if cover < lead_time_days else None


# -- transfers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """One warehouse's position in one SKU."""

    warehouse_id: int
    region: str | None
    country: str
    available: int
    forecast_daily: float
    lead_time_days: int
    # The warehouse's {"DE": [1, 3], ...} business days per destination (Warehouse.transit_days).
    transit_days: dict | None = None


@dataclass(frozen=True)
class Transfer:
    from_warehouse_id: int
    to_warehouse_id: int
    quantity: int
    expected_arrival: date


def need(h: Holding, margin_days: int) -> int:
    """Units that cover the lead time plus the margin: what a warehouse keeps (donor) or wants (receiver)."""
    return math.ceil(max(0.0, h.forecast_daily) * (h.lead_time_days + margin_days))


def transfer_days(src: Holding, dst: Holding) -> int:
    """Business days from ``src`` to ``dst``: the slow end of src's transit to dst's country when
    it names one (not its "*" parcel fallback, which is for far markets), else the default."""
    window = (src.transit_days or {}).get(dst.country)
    if isinstance(window, int | float):
        return int(window)
    if isinstance(window, list | tuple) and window:
        return int(window[-1])
    return DEFAULT_TRANSFER_DAYS


def plan_transfers(holdings: Sequence[Holding], today: date, *, margin_days: int = 14,
                   transit: Callable[[Holding, Holding], int] = transfer_days) -> list[Transfer]:
    """Transfers within each region: a warehouse whose cover is below its lead time receives from
    those holding more than their own need (lead time + margin), the most urgent first, the
    biggest surplus first; no donor goes under its need. Holdings without a region are skipped."""
    by_region: dict[str, list[Holding]] = {}
    for h in holdings:
        if h.region:
            by_region.setdefault(h.region, []).append(h)
    planned: list[Transfer] = []
    for members in by_region.values():
        surplus = {h.warehouse_id: h.available - need(h, margin_days) for h in members}
        short = [h for h in members if stock_alert(h.available, h.forecast_daily, h.lead_time_days)]
        short.sort(key=lambda h: (days_of_cover(h.available, h.forecast_daily) or 0.0, h.warehouse_id))
        short_ids = {h.warehouse_id for h in short}
        for receiver in short:
            wanted = need(receiver, margin_days) - max(0, receiver.available)
            donors = sorted((h for h in members if h.warehouse_id not in short_ids and surplus[h.warehouse_id] > 0),
                            key=lambda h: (-surplus[h.warehouse_id], h.warehouse_id))
            for donor in donors:
                if wanted <= 0:
                    break
                quantity = min(wanted, surplus[donor.warehouse_id])
                surplus[donor.warehouse_id] -= quantity
                wanted -= quantity
                planned.append(Transfer(donor.warehouse_id, receiver.warehouse_id, quantity,
                                        add_business_days(today, transit(donor, receiver))))
    return planned


# -- the reason low ratings share ---------------------------------------------------------------------

# Words that say nothing about why (en, de, fr, es, it, nl): a shared "product" is not a reason.
STOP_WORDS = frozenset((
    "the", "and", "for", "but", "not", "was", "were", "with", "this", "that", "very", "too", "have", "has",
    "had", "are", "its", "it's", "from", "they", "them", "than", "then", "product", "item", "really", "just",
    "would", "could", "after", "before", "again", "never", "about", "more", "less", "much", "only", "also",
    "been", "does", "did", "der", "die", "das", "und", "nicht", "ist", "war", "mit", "ein", "eine", "einem",
    "einer", "sehr", "auch", "aber", "nach", "noch", "schon", "les", "des", "une", "est", "pas", "pour",
    "avec", "tres", "mais", "plus", "pas", "que", "qui", "los", "las", "una", "por", "para", "con", "muy",
    "pero", "mas", "que", "del", "gli", "una", "per", "con", "molto", "non", "che", "del", "della", "het",
    "een", "van", "niet", "met", "voor", "maar", "zeer", "heel", "erg", "dat",
))
MIN_SHARED = 2  # comments that must say it
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


def normalize_reason(text: str) -> str:
    """Case, character width and punctuation folded, spaces collapsed: "Not waterproof!" and
    "not  waterproof" are one reason."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    folded = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in folded)
    return " ".join(folded.split())


def shared_reason(comments: Sequence[str | None], max_len: int = 64) -> str | None:
    """What the low ratings' comments (or return reasons) have in common: the most frequent whole
    comment when at least two say the same, else the most frequent keyword found in at least two
    comments and in at least a third of them; None when they share nothing."""
    texts = [normalize_reason(c) for c in comments if c and normalize_reason(c)]
    if len(texts) < MIN_SHARED:
        return None
    whole, times = Counter(texts).most_common(1)[0]
    if times >= MIN_SHARED:
        return whole[:max_len]
    words = Counter(w for t in texts for w in {m for m in _WORD.findall(t) if m not in STOP_WORDS})
    if not words:
        return None
    top = max(words.values())
    word = min(w for w, n in words.items() if n == top)  # ties: alphabetical, so reruns agree
    if top >= MIN_SHARED and top * 3 >= len(texts):
        return word[:max_len]
    return None
