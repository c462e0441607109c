"""The feedback figures as pure functions of counts: averages per dimension, NPS, promise-kept
rate, Monday-based weeks. The SQL readers (:mod:`.scorecard`, :mod:`.promises`) hand them sums
and counts; no database or framework here.

* NPS = promoters (9-10) minus detractors (0-6), as a percentage of the NPS answers: -100 to 100.
* Promise-kept rate = parcels delivered on or before their promised day, as a percentage of the
  parcels due (delivered, or past their promised day undelivered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

SCORED = ("rating", "delivery_speed", "packaging", "product_quality", "after_sales")
PROMOTER, DETRACTOR = 9, 6  # promoters answer 9 or 10, detractors 0 to 6


def average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def nps(promoters: int, detractors: int, answers: int) -> float | None:
    return round(100 * (promoters - detractors) / answers, 1) if answers else None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(since: date, until: date) -> list[date]:
    """Every Monday from the week of ``since`` to the week of ``until``."""
    out, week = [], monday(since)
    while week <= until:
        out.append(week)
        week += timedelta(days=7)
    return out


def check_span(since: date, until: date, max_days: int) -> None:
    """A period of whole days, ``since`` to ``until`` inclusive, at most ``max_days`` long."""
    if until < since or (until - since).days + 1 > max_days:
        raise ValueError(f"the range must run forwards over at most {max_days} days")


def day_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """``since`` 00:00 UTC and the midnight after ``until``: the period's datetimes, end excluded."""
    return (datetime.combine(since, time.min, tzinfo=UTC),
            datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC))


@dataclass
class Tally:
    """Sums and counts of some answers: one per dimension, and the NPS split."""

    answers: int = 0
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCORED, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCORED, 0))
    promoters: int = 0
    detractors: int = 0
    nps_answers: int = 0

    def add(self, other: Tally) -> None:
        self.answers += other.answers
        for name in SCORED:
            self.totals[name] += other.totals[name]
            self.counts[name] += other.counts[name]
        self.promoters += other.promoters
        self.detractors += other.detractors
        self.nps_answers += other.nps_answers

    def as_dict(self) -> dict:
        return {"answers": self.answers,
                "averages": {name: average(self.totals[name], self.counts[name]) for name in SCORED},
                "counts": dict(self.counts),
                "nps": {"score": nps(self.promoters, self.detractors, self.nps_answers), "answers": self.nps_answers,
                        "promoters": self.promoters, "detractors": self.detractors,
                        "passives": self.nps_answers - self.promoters - self.detractors}}


@dataclass
class Kept:
    due: int = 0
    kept: int = 0

    def add(self, due: int, kept: int) -> None:
        self.due += due
        self.kept += kept

    def as_dict(self) -> dict:
        return {"due": self.due, "kept": self.kept, "rate": percent(self.kept, self.due)}
