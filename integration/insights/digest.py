"""The daily digest: one e-mail per shop per day listing its open low-stock and stock-out alerts
and the demand shifts raised since the previous digest (all raised by
:mod:`integration.insights.sensing`, none e-mailed one by one).

Shifts come in the digest rather than one e-mail each: when a shop's order sync stops, nearly every
series "falls" the same night, and a merchant wants one e-mail that says so, not thousands. Rises
are listed first (the ones to act on: restock, advertise), the largest changes first; when the
falls cover at least half of the shop's selling series the digest says that a fall this wide
usually means orders stopped arriving.

The notice's subject is ``digest:<day>``: the outbox keeps one row per (shop, kind, subject,
recipient), so a second run the same day (two cron processes, a retry) sends nothing more.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from sqlalchemy import func, select

from integration.extensions import db
from integration.models import Alert, InsightSeries, Shop, ShopStatus
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices.outbox import enqueue_notice
from integration.shops.alerts import DIGEST_KINDS, SHIFT_KINDS, STOCK_KINDS

log = structlog.get_logger(__name__)

MAX_ITEMS = 200  # an e-mail, not a report: the admin lists the rest
MAX_SHIFTS = 50
WIDE_FALL_MIN = 20  # fewer falls than this are the market, however small the shop
ITEM_FIELDS = ("sku", "warehouse", "available", "forecast_daily", "days_of_cover", "lead_time_days")
SHIFT_FIELDS = ("sku", "warehouse", "direction", "change_pct", "baseline_daily", "recent_daily", "reason")


def digest_items(shop_id: int) -> list[dict[str, Any]]:
    """The shop's open stock alerts, stock-outs first, then the shortest cover."""
    alerts = db.session.execute(select(Alert).where(
        Alert.shop_id == shop_id, Alert.kind.in_(STOCK_KINDS), Alert.resolved_at.is_(None))).scalars()
    latest: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        details = alert.details or {}
        item = {"kind": alert.kind, **{k: details.get(k) for k in ITEM_FIELDS}}
        item["warehouse"] = item["warehouse"] or str(details.get("warehouse_id", ""))
        # A stock-out episode keeps its low-stock alert open: list the series once, at its worst.
        key = f"{details.get('warehouse_id')}:{details.get('sku')}"
        if key not in latest or alert.kind == "stock_out":
            latest[key] = item
    items = sorted(latest.values(), key=lambda i: (i["kind"] != "stock_out", i["days_of_cover"] or 0, i["sku"] or ""))
    return items[:MAX_ITEMS]


def shift_items(shop_id: int) -> dict[str, Any]:
    """The open shifts raised since the shop's previous digest (each is listed once): up to
    ``MAX_SHIFTS`` of them, rises first then falls, the largest change first; how many more; and
    the wide-fall warning's figures when the falls cover half of the shop's selling series."""
    previous = db.session.execute(select(func.max(Notification.created_at)).where(
        Notification.shop_id == shop_id, Notification.kind == "stock_digest")).scalar()
    query = select(Alert.details).where(Alert.shop_id == shop_id, Alert.kind.in_(SHIFT_KINDS),
                                        Alert.resolved_at.is_(None))
    if previous is not None:
        query = query.where(Alert.created_at > previous)
    shifts = [{k: (d or {}).get(k) for k in SHIFT_FIELDS} for d in db.session.execute(query).scalars()]
    shifts.sort(key=lambda i: (i["direction"] != "rise", -abs(i["change_pct"] or 0), i["sku"] or ""))
    falls = sum(1 for i in shifts if i["direction"] == "fall")
    selling = db.session.execute(select(func.count()).where(
        InsightSeries.shop_id == shop_id, InsightSeries.forecast_daily > 0)).scalar() if falls >= WIDE_FALL_MIN else 0
    wide = falls >= WIDE_FALL_MIN and falls * 2 >= selling
    return {"shifts": shifts[:MAX_SHIFTS], "more_shifts": max(0, len(shifts) - MAX_SHIFTS),
            "wide_fall": {"falls": falls, "selling": selling} if wide else None}


def send_digest(shop: Shop, day: date) -> int | None:
    """Queue the shop's digest for ``day`` (in the caller's transaction); None when there is
    nothing to list, no address, or it was queued already."""
    if shop.status != ShopStatus.INSTALLED or not shop.email:
        return None
    items = digest_items(shop.id)
    shifts = shift_items(shop.id)
    if not items and not shifts["shifts"]:
        return None
    return enqueue_notice(shop.id, "stock_digest", f"digest:{day.isoformat()}", shop.email,
                          locale=shop.primary_locale, context={"day": day.isoformat(), "items": items, **shifts})


def send_digests(day: date | None = None) -> int:
    """Cron: every shop with open stock alerts gets its digest for today. Commits per shop."""
    day = day or utcnow().date()
    shop_ids = db.session.execute(select(Alert.shop_id).where(
        Alert.kind.in_(DIGEST_KINDS), Alert.resolved_at.is_(None)).distinct().order_by(Alert.shop_id)).scalars().all()
    queued = 0
    for shop_id in shop_ids:
        shop = db.session.get(Shop, shop_id)
        if shop is not None and send_digest(shop, day):
            queued += 1
        db.session.commit()
    log.info("insights.digests_queued", day=day.isoformat(), shops=len(shop_ids), queued=queued)
    return queued
