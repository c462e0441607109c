"""A chunk of series' demand history as matrices: one row per series, one column per day.

The database hands each series' rows over packed in one string (``string_agg`` on PostgreSQL,
``group_concat`` on SQLite: "day offset,net,flags,…"), one result row per series, so the nightly
run moves 100,000 strings instead of millions of row tuples, and numpy parses and places them.

Row i is ``chunk[i]``; column j is the day ``first + j`` where ``first = today - HISTORY_DAYS``, up
to yesterday. A day without a row sold nothing while in stock (0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import Integer, and_, cast, func, or_, select, tuple_

from integration.extensions import db
from integration.insights.demand import HISTORY_DAYS, chunked
from integration.models import DemandDay

CENSORED, PROMO = 1, 2  # the flags' bits


@dataclass(frozen=True)
class Histories:
    net: np.ndarray  # units - cancelled, never negative (float)
    censored: np.ndarray  # bool: nothing was available all day
    promo: np.ndarray  # bool: a promotion covered the day
    starts: np.ndarray  # the column each series' history starts at (see :func:`starts`)
    rows: int  # demand rows read

    def policy_days(self) -> np.ndarray:
        """The days as the forecast reads them: censored (unknown) and promotion (not the
        baseline) days NaN, like days before the series' start."""
        days = np.where(self.censored | self.promo, np.nan, self.net)
        days[np.arange(days.shape[1])[None, :] < self.starts[:, None]] = np.nan
        return days

    def sensing_days(self, count: int) -> np.ndarray:
        """The last ``count`` days as :mod:`.sensing` reads them: censored days NaN."""
        return np.where(self.censored, np.nan, self.net)[:, -count:]


def chunk_filters(model, chunk, ranged: bool) -> list:
    """Conditions selecting the rows of the chunk's series: per warehouse, the chunk's SKU range
    (DB order, as read: a full run, every series in it is wanted) or the keys themselves (an
    incremental run), 500 a statement. Rows of series outside the chunk are skipped by callers."""
    if not ranged:
        return [tuple_(model.warehouse_id, model.sku).in_(part)
                for part in chunked([(r.warehouse_id, r.sku) for r in chunk])]
    bounds: dict[int, list[str]] = {}
    for row in chunk:
        bounds.setdefault(row.warehouse_id, [row.sku, row.sku])[1] = row.sku  # ascending in DB order
    return [or_(*(and_(model.warehouse_id == w, model.sku >= lo, model.sku <= hi) for w, (lo, hi) in bounds.items()))]


def _packed(dialect: str, first: date):
    """Each series' rows as one "offset,net,flags,offset,net,flags…" string."""
    net = DemandDay.units - DemandDay.cancelled
    flags = cast(DemandDay.censored, Integer) * CENSORED + cast(DemandDay.promo, Integer) * PROMO
    if dialect == "postgresql":
        return func.string_agg(func.concat_ws(",", DemandDay.day - first, net, flags), ",")
    offset = cast(func.julianday(DemandDay.day) - func.julianday(first.isoformat()), Integer)
    # Parenthesised: SQLite's || binds tighter than - + *.
    return func.group_concat(offset.concat(",").concat(net.self_group()).concat(",").concat(flags.self_group()), ",")


def starts(chunk, first_row: np.ndarray, today: date) -> np.ndarray:
    """The column each series' history starts at: its first row's, or its creation day's if
    earlier (days before it are not history: the SKU may not have been stocked)."""
    first = today - timedelta(days=HISTORY_DAYS)
    created = np.array([(row.created_at.date() - first).days for row in chunk], dtype=np.int64)
    return np.clip(np.minimum(created, first_row), 0, HISTORY_DAYS)


def read_histories(shop_id: int, today: date, chunk, ranged: bool) -> Histories:
    first = today - timedelta(days=HISTORY_DAYS)
    index = {(row.warehouse_id, row.sku): i for i, row in enumerate(chunk)}
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # A chunk's strings are grouped in memory (~20 MB), not spilled to disk in 4 MB batches.
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    query = select(DemandDay.warehouse_id, DemandDay.sku, _packed(connection.dialect.name, first)).where(
        DemandDay.shop_id == shop_id, DemandDay.day >= first, DemandDay.day < today).group_by(
        DemandDay.warehouse_id, DemandDay.sku)
    owners, parts = [], []
    for condition in chunk_filters(DemandDay, chunk, ranged):
        for warehouse_id, sku, packed in connection.execute(query.where(condition)):
            i = index.get((warehouse_id, sku))
            if i is not None:
                values = np.fromstring(packed, dtype=np.int64, sep=",")
                owners.append(np.full(values.size // 3, i))
                parts.append(values)
    size = (len(chunk), HISTORY_DAYS)
    net, censored, promo = np.zeros(size), np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    first_row = np.full(len(chunk), HISTORY_DAYS)
    if parts:
        owner = np.concatenate(owners)
        offset, value, flags = np.concatenate(parts).reshape(-1, 3).T
        net[owner, offset] = np.maximum(value, 0)
        censored[owner, offset] = (flags & CENSORED) > 0
        promo[owner, offset] = (flags & PROMO) > 0
        np.minimum.at(first_row, owner, offset)
    return Histories(net, censored, promo, starts(chunk, first_row, today), int(sum(p.size for p in parts) // 3))
