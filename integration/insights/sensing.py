"""After the computation: demand shifts, stock alerts by days of cover, transfer suggestions.

    from integration.insights.sensing import sense_shop

    sense_shop(shop_id, series_ids, today=date.today())  # in the computation's transaction

The nightly/incremental computation calls :func:`sense_shop` with the series it has just
computed (``insight_series`` rows with ``forecast_daily``, ``available`` and ``days_of_cover``
fresh). It writes inside the caller's transaction and never commits, so the computation and what
it decided commit together; every effect is keyed so a second run on the same day does nothing:

* ``demand_shifts``: one open row per (warehouse, sku, direction) (the partial unique index); the
  alert ``demand_rise``/``demand_fall`` has subject ``shift:<id>``, so one alert per shift. A shift
  that ends gets ``ended_on`` and its alert is resolved. Shift alerts are listed in the daily
  digest (:mod:`.digest`), not e-mailed one by one. Shifts are judged for all the series at once
  (:func:`rules.detect_shifts`); only those showing one, or with one open, are looked at one by one.
* ``low_stock``/``stock_out`` alerts: subject ``series:<id>:<first day>``, raised when an episode
  starts, resolved when it ends; while one is open, no other is raised for that series. They are
  not e-mailed one by one (:data:`integration.shops.alerts.DIGEST_KINDS`): the digest
  (:mod:`.digest`) lists them in one e-mail per shop per day.
* ``transfer_suggestions``: one open per (sku, from, to); a changed plan supersedes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import structlog
from sqlalchemy import select, tuple_, update

from integration.domain import sensing as rules
from integration.extensions import db
from integration.insights.demand import chunked
from integration.insights.feedback_reasons import complained_markets, shared_reason_for
from integration.insights.planning_input import lead_times
from integration.models import Alert, DemandDay, DemandShift, InsightSeries, TransferSuggestion, Warehouse
from integration.models.base import utcnow
from integration.models.insights import OPEN, SHIFT_OPEN
from integration.models.upsert import insert, insert_rows
from integration.shops.alerts import STOCK_KINDS, raise_alerts

log = structlog.get_logger(__name__)

HISTORY_DAYS = rules.DEFAULT_RULE.baseline_days + rules.DEFAULT_RULE.recent_days
CHUNK = 1000  # series per demand query: bounded statements for a nightly run over every series
SHIFT_KIND = {rules.RISE: "demand_rise", rules.FALL: "demand_fall"}


SeriesRow = Any  # a row with id, shop_id, warehouse_id, sku, available, forecast_daily (or the model)
Histories = tuple[Sequence[int], np.ndarray]  # series ids, and their days as rows (NaN: censored)


def sense_shop(shop_id: int, series_ids: Sequence[int] | None = None, *, today: date | None = None,
               histories: Histories | None = None) -> dict[str, int]:
    """Sense the given series of the shop (None: all of them) as of ``today`` (the history ends
    the day before). ``histories``: the series' :func:`demand_histories` when the caller has
    them already (the computation read them), else they are read here. No commit. Returns counts
    of what it did."""
    today = today or utcnow().date()
    query = select(*SERIES_COLUMNS).where(InsightSeries.shop_id == shop_id)
    if series_ids is not None:
        if not series_ids:
            return {"series": 0}
        query = query.where(InsightSeries.id.in_(list(series_ids)))
    series = db.session.execute(query.order_by(InsightSeries.id)).all()
    if not series:
        return {"series": 0}
    warehouses = {w.id: w for w in db.session.execute(
        select(Warehouse).where(Warehouse.shop_id == shop_id)).scalars()}
    leads = lead_times(shop_id)
    ids, matrix = histories if histories is not None else demand_histories(shop_id, series, today)
    row_of = {series_id: i for i, series_id in enumerate(ids)}
    directions = rules.detect_shifts(matrix)
    # What is open now (few rows: only open shifts and stock alerts).
    shifts: dict[tuple[int, str], dict[str, DemandShift]] = defaultdict(dict)
    for part in chunked(sorted({s.sku for s in series})):  # the open shifts of these SKUs only
        for row in db.session.execute(select(DemandShift).where(
                DemandShift.shop_id == shop_id, DemandShift.sku.in_(part), DemandShift.ended_on.is_(None))).scalars():
            shifts[(row.warehouse_id, row.sku)][row.direction] = row
    stock_alerts: dict[int, dict[str, int]] = defaultdict(dict)
    for alert_id, kind, subject in db.session.execute(select(Alert.id, Alert.kind, Alert.subject).where(
            Alert.shop_id == shop_id, Alert.kind.in_(STOCK_KINDS), Alert.resolved_at.is_(None))):
        series_id = subject.split(":")[1] if subject.startswith("series:") else ""
        if series_id.isdigit():
            stock_alerts[int(series_id)][kind] = alert_id
    counts = {"series": len(series), "shifts": 0, "shifts_ended": 0, "stock_alerts": 0}
    ended: list[DemandShift] = []
    found: list[tuple[SeriesRow, rules.Shift]] = []
    resolve: list[int] = []
    raise_: list[tuple[str, str, str, dict]] = []
    for s in series:
        i, open_shifts = row_of[s.id], shifts.get((s.warehouse_id, s.sku), {})
        # Most series show no shift and have none open: nothing to judge one by one.
        if directions[i] or open_shifts:
            history = [None if v != v else v for v in matrix[i].tolist()]  # NaN (censored) -> None
            shift = shift_changes(s, history, today, open_shifts, ended)
            if shift is not None:
                found.append((s, shift))
        stock_changes(s, leads.days(s.warehouse_id, s.sku), warehouses.get(s.warehouse_id), today,
                      stock_alerts[s.id], resolve, raise_)
    counts["shifts_ended"] = _end_shifts(shop_id, ended)
    counts["shifts"] = _open_shifts(shop_id, found, warehouses, today)
    for ids_part in chunked(resolve):
        db.session.execute(update(Alert).where(Alert.id.in_(ids_part), Alert.resolved_at.is_(None))
                           .values(resolved_at=utcnow()))
    counts["stock_alerts"] = len(raise_alerts(shop_id, raise_))
    counts["transfers"] = plan_transfers(shop_id, {s.sku for s in series}, warehouses, today)
    return counts


def sense_series(series: InsightSeries, *, today: date | None = None) -> dict[str, int]:
    """One series (and the transfers of its SKU): :func:`sense_shop` for a single row."""
    return sense_shop(series.shop_id, [series.id], today=today)


# -- reading -----------------------------------------------------------------------------------------


SERIES_COLUMNS = (InsightSeries.id, InsightSeries.shop_id, InsightSeries.warehouse_id, InsightSeries.sku,
                  InsightSeries.available, InsightSeries.forecast_daily)


def demand_histories(shop_id: int, series: Sequence[SeriesRow], today: date, days: int = HISTORY_DAYS) -> Histories:
    """Net daily demand per series for the ``days`` days before ``today`` (a row per series, in
    the order given); censored days NaN, days without a row 0 (nothing sold while in stock)."""
    start = today - timedelta(days=days)
    keys = {(s.warehouse_id, s.sku): i for i, s in enumerate(series)}
    out = np.zeros((len(series), days))
    pairs = list(keys)
    for first in range(0, len(pairs), CHUNK):
        rows = db.session.execute(select(
            DemandDay.warehouse_id, DemandDay.sku, DemandDay.day, DemandDay.units, DemandDay.cancelled,
            DemandDay.censored).where(
            DemandDay.shop_id == shop_id, DemandDay.day >= start, DemandDay.day < today,
            tuple_(DemandDay.warehouse_id, DemandDay.sku).in_(pairs[first:first + CHUNK])))
        for warehouse_id, sku, day, units, cancelled, censored in rows:
            out[keys[(warehouse_id, sku)], (day - start).days] = np.nan if censored else max(0, units - cancelled)
    return [s.id for s in series], out


def _label(series: SeriesRow, warehouse: Warehouse | None) -> str:
    return f"{series.sku} at {(warehouse.name or warehouse.code) if warehouse else series.warehouse_id}"


# -- shifts -----------------------------------------------------------------------------------------


def shift_changes(s: SeriesRow, history: list[float | None], today: date,
                  open_shifts: dict[str, DemandShift], ended: list[DemandShift]) -> rules.Shift | None:
    """End the open shifts (by direction) that are over (``ended`` collects them); returns the
    shift to open, if any."""
    found = rules.detect_shift(history)
    for direction, row in open_shifts.items():
        # A shift the other way also ends it: demand cannot be up and down at once.
        if rules.shift_ended(direction, history) or (found is not None and found.direction != direction):
            row.ended_on = today
            ended.append(row)
    if found is None or (found.direction in open_shifts and open_shifts[found.direction].ended_on is None):
        return None
    return found


def _end_shifts(shop_id: int, ended: list[DemandShift]) -> int:
    """Resolve the alerts of the shifts that ended; returns how many ended."""
    subjects = [f"shift:{row.id}" for row in ended]
    for part in chunked(subjects):
        db.session.execute(update(Alert).where(
            Alert.shop_id == shop_id, Alert.kind.in_(list(SHIFT_KIND.values())), Alert.subject.in_(part),
            Alert.resolved_at.is_(None)).values(resolved_at=utcnow()))
    return len(ended)


def _open_shifts(shop_id: int, found: list[tuple[SeriesRow, rules.Shift]], warehouses: dict[int, Warehouse],
                 today: date) -> int:
    """Open (and alert) the found shifts, in one statement each; returns how many opened."""
    if not found:
        return 0
    db.session.flush()  # the ended rows leave the partial unique index before their successors enter
    complained = complained_markets(shop_id, {s.sku for s, _ in found}, today)
    complained_skus = {sku for sku, _ in complained}
    reasons = {}
    for s, _shift in found:
        warehouse = warehouses.get(s.warehouse_id)
        market = warehouse.country_code if warehouse else None
        # Only where a low rating exists at all: the reason is read per shift, most have none.
        if (s.sku, market) in complained if market else s.sku in complained_skus:
            reasons[s.id] = shared_reason_for(shop_id, s.sku, market, today)
    now = utcnow()
    rows = insert_rows(DemandShift, [
        {"shop_id": shop_id, "warehouse_id": s.warehouse_id, "sku": s.sku, "direction": shift.direction,
         "detected_on": today, "change_pct": shift.change_pct, "baseline_daily": shift.baseline_daily,
         "recent_daily": shift.recent_daily, "reason": reasons.get(s.id), "created_at": now, "updated_at": now}
        for s, shift in found],
        lambda statement: statement.on_conflict_do_nothing(
            index_elements=["warehouse_id", "sku", "direction"], index_where=SHIFT_OPEN).returning(
            DemandShift.id, DemandShift.warehouse_id, DemandShift.sku, DemandShift.direction)).all()
    # A row not returned: a concurrent run opened it (and raised its alert).
    opened = {(w, sku, direction): shift_id for shift_id, w, sku, direction in rows}
    alerts = []
    for s, shift in found:
        shift_id = opened.get((s.warehouse_id, s.sku, shift.direction))
        if shift_id is None:
            continue
        reason, warehouse = reasons.get(s.id), warehouses.get(s.warehouse_id)
        alerts.append((SHIFT_KIND[shift.direction], f"shift:{shift_id}", shift_message(s, warehouse, shift, reason),
                       shift_details(s, warehouse, shift, reason, shift_id)))
        log.info("insights.shift_opened", shop_id=shop_id, shift_id=shift_id, direction=shift.direction,
                 change_pct=shift.change_pct)
    raise_alerts(shop_id, alerts)
    return len(opened)


def shift_message(s: SeriesRow, warehouse: Warehouse | None, shift: rules.Shift, reason: str | None) -> str:
    word = "up" if shift.direction == rules.RISE else "down"
    text = (f"{_label(s, warehouse)}: demand {word} {abs(shift.change_pct):g} % "
            f"({shift.baseline_daily:g}/day -> {shift.recent_daily:g}/day)")
    return text + (f"; low ratings mention \"{reason}\"" if reason else "")


def shift_details(s: SeriesRow, warehouse: Warehouse | None, shift: rules.Shift, reason: str | None,
                  shift_id: int) -> dict[str, Any]:
    """What the digest and the admin show of a shift. Its chart is drawn when it is looked at,
    from the series' own rows (``GET /api/insights/series/<warehouse>/<sku>``, :mod:`.chart`): a
    copy per alert would cost a night with many shifts ~1 kB each and say nothing new."""
    return {
        "shift_id": shift_id, "warehouse_id": s.warehouse_id, "sku": s.sku, "direction": shift.direction,
        "warehouse": (warehouse.name or warehouse.code) if warehouse else str(s.warehouse_id),
        "change_pct": shift.change_pct, "baseline_daily": shift.baseline_daily, "recent_daily": shift.recent_daily,
        "reason": reason, "recent_days": rules.DEFAULT_RULE.recent_days,
    }


# -- stock alerts -------------------------------------------------------------------------------------


def stock_changes(s: SeriesRow, lead_time_days: int, warehouse: Warehouse | None, today: date,
                  open_alerts: dict[str, int], resolve: list[int], raise_: list[tuple]) -> None:
    """The low-stock or stock-out alert to raise once per episode (into ``raise_``), the ones to
    resolve when the episode ended (ids into ``resolve``). ``open_alerts``: the series' open stock
    alerts, {kind: alert id}."""
    level = rules.stock_alert(s.available, s.forecast_daily, lead_time_days)
    prefix = f"series:{s.id}:"
    # Stock-out is the deeper end of a low-stock episode: the low alert stays open through it.
    keep = {rules.LOW_STOCK: {rules.LOW_STOCK}, rules.STOCK_OUT: {rules.LOW_STOCK, rules.STOCK_OUT}}.get(level, set())
    resolve.extend(alert_id for kind, alert_id in open_alerts.items() if kind not in keep)
    if level is None or level in open_alerts:
        return
    cover = rules.days_of_cover(s.available, s.forecast_daily)
    message = (f"{_label(s, warehouse)}: out of stock, selling {s.forecast_daily:.1f}/day"
               if level == rules.STOCK_OUT else
               f"{_label(s, warehouse)}: {cover:g} days of cover, lead time {lead_time_days} days")
    details = {"warehouse_id": s.warehouse_id, "warehouse": (warehouse.name or warehouse.code) if warehouse else None,
               "sku": s.sku, "available": s.available, "forecast_daily": round(s.forecast_daily, 2),
               "days_of_cover": cover, "lead_time_days": lead_time_days}
    raise_.append((level, f"{prefix}{today.isoformat()}", message, details))


# -- transfers ------------------------------------------------------------------------------------------


def plan_transfers(shop_id: int, skus: set[str], warehouses: dict[int, Warehouse], today: date) -> int:
    """Recompute the transfer plan of these SKUs over every warehouse of the shop holding them;
    returns the number of new suggestions."""
    if not skus:
        return 0
    rows = [row for part in chunked(sorted(skus)) for row in db.session.execute(select(*SERIES_COLUMNS).where(
        InsightSeries.shop_id == shop_id, InsightSeries.sku.in_(part)))]
    leads = lead_times(shop_id)
    by_sku: dict[str, list[rules.Holding]] = defaultdict(list)
    for r in rows:
        w = warehouses.get(r.warehouse_id)
        if w is None or not w.active:
            continue
        by_sku[r.sku].append(rules.Holding(w.id, w.region, w.country_code, r.available, r.forecast_daily,
                                           leads.days(r.warehouse_id, r.sku), w.transit_days))
    planned = {(sku, t.from_warehouse_id, t.to_warehouse_id): t
               for sku, holdings in by_sku.items() for t in rules.plan_transfers(holdings, today)}
    current = {(r.sku, r.from_warehouse_id, r.to_warehouse_id): r for r in db.session.execute(
        select(TransferSuggestion).where(TransferSuggestion.shop_id == shop_id, TransferSuggestion.sku.in_(skus),
                                         TransferSuggestion.status == "open")).scalars()}
    stale = [r.id for key, r in current.items()
             if key not in planned or (r.quantity, r.expected_arrival) != (planned[key].quantity,
                                                                          planned[key].expected_arrival)]
    if stale:
        db.session.execute(update(TransferSuggestion).where(
            TransferSuggestion.id.in_(stale), TransferSuggestion.status == "open"
        ).values(status="superseded", updated_at=utcnow()))
    created = 0
    for (sku, source, target), t in planned.items():
        if (sku, source, target) in current and current[(sku, source, target)].id not in stale:
            continue
        created += db.session.execute(
            insert(TransferSuggestion).values(
                shop_id=shop_id, sku=sku, from_warehouse_id=source, to_warehouse_id=target, quantity=t.quantity,
                expected_arrival=t.expected_arrival, status="open", created_at=utcnow(), updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["sku", "from_warehouse_id", "to_warehouse_id"], index_where=OPEN)
            .returning(TransferSuggestion.id)
        ).scalar() is not None
    return created

