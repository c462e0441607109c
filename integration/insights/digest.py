"""The daily stock digest: one e-mail per shop per day listing its open low-stock and stock-out
alerts (raised by :mod:`integration.insights.sensing`, not e-mailed one by one).

The notice's subject is ``digest:<day>``: the outbox keeps one row per (shop, kind, subject,
recipient), so a second run the same day (two cron processes, a retry) sends nothing more.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from sqlalchemy import select

from integration.extensions import db
from integration.models import Alert, Shop, ShopStatus
from integration.models.base import utcnow
from integration.notices.outbox import enqueue_notice
from integration.shops.alerts import DIGEST_KINDS

log = structlog.get_logger(__name__)

MAX_ITEMS = 200  # an e-mail, not a report: the admin lists the rest
ITEM_FIELDS = ("sku", "warehouse", "available", "forecast_daily", "days_of_cover", "lead_time_days")


def digest_items(shop_id: int) -> list[dict[str, Any]]:
    """The shop's open stock alerts, stock-outs first, then the shortest cover."""
    alerts = db.session.execute(select(Alert).where(
        Alert.shop_id == shop_id, Alert.kind.in_(DIGEST_KINDS), Alert.resolved_at.is_(None))).scalars()
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


def send_digest(shop: Shop, day: date) -> int | None:
    """Queue the shop's digest for ``day`` (in the caller's transaction); None when there is
    nothing to list, no address, or it was queued already."""
    if shop.status != ShopStatus.INSTALLED or not shop.email:
        return None
    items = digest_items(shop.id)
    if not items:
        return None
    return enqueue_notice(shop.id, "stock_digest", f"digest:{day.isoformat()}", shop.email,
                          locale=shop.primary_locale, context={"day": day.isoformat(), "items": items})


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
