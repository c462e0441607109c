"""The weekly after-sales digest: one e-mail per shop per week (Monday to Sunday, UTC) with the top
return reasons per SKU x market, the week's NPS and promise-kept rate, overall and per warehouse,
and what customers' comments were about, per language.

Built from the admin's readers (:func:`.analytics.top_reasons`,
:func:`integration.feedback.trends.warehouse_trends`,
:func:`integration.feedback.comment_themes.period_themes`). The notice's subject is
``aftersales-digest:<Monday>``: the outbox keeps one row per (shop, kind, subject, recipient), so a
second run for the same week (two cron processes, a retry) sends nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta

import structlog
from sqlalchemy import select, union

from integration.extensions import db
from integration.feedback import comment_themes, scores, trends
from integration.models import DeliveryPromise, Return, Shop, ShopStatus
from integration.models.base import utcnow
from integration.models.notification import OrderFeedback
from integration.notices.outbox import enqueue_notice
from integration.returns import analytics

log = structlog.get_logger(__name__)

KIND = "aftersales_digest"
MAX_GROUPS = 10  # the SKU x market groups with the most units returned
MAX_THEMES = 3  # per language


def last_week(today: date) -> date:
    """The Monday of the last full week before ``today``."""
    return scores.monday(today) - timedelta(days=7)


def digest_context(shop_id: int, week: date) -> dict | None:
    """What the e-mail says about the week starting ``week``; None when nothing happened in it."""
    until = week + timedelta(days=6)
    reasons = analytics.top_reasons(shop_id, week, until)["groups"]
    figures = trends.warehouse_trends(shop_id, week, until)
    themes = comment_themes.period_themes(shop_id, week, until, top=MAX_THEMES)
    overall = figures["overall"]
    if not reasons and not overall["answers"] and not overall["kept"]["due"] and not themes:
        return None
    top = sorted(reasons, key=lambda g: (-g["units"], -g["returns"], g["sku"] or "", g["market"] or ""))[:MAX_GROUPS]
    return {
        "week": week.isoformat(), "week_end": until.isoformat(),
        "reasons": [{"sku": g["sku"] or "", "market": g["market"] or "", "units": g["units"], "returns": g["returns"],
                     "reasons": [{"reason": r["reason"], "units": r["units"]} for r in g["reasons"]]} for g in top],
        "nps": {"score": overall["nps"]["score"], "answers": overall["nps"]["answers"]},
        "kept": overall["kept"],
        "warehouses": [{"name": w["name"], "nps": w["nps"]["score"], "kept_rate": w["kept"]["rate"],
                        "answers": w["answers"]}
                       for w in figures["warehouses"] if w["id"] is not None and (w["answers"] or w["kept"]["due"])],
        "themes": [{"language": lang, "comments": found["comments"],
                    "themes": [{"term": t["term"], "comments": t["comments"], "praise": t["praise"],
                                "complaints": t["complaints"]} for t in found["themes"]]}
                   for lang, found in themes.items() if found["themes"]],
    }


def send_digest(shop: Shop, week: date) -> int | None:
    """Queue the shop's digest of the week starting ``week`` (in the caller's transaction); None
    when nothing happened, the shop has no address, or it was queued already."""
    if shop.status != ShopStatus.INSTALLED or not shop.email:
        return None
    context = digest_context(shop.id, week)
    if context is None:
        return None
    return enqueue_notice(shop.id, KIND, f"aftersales-digest:{week.isoformat()}", shop.email,
                          locale=shop.primary_locale, context=context)


def send_digests(today: date | None = None) -> int:
    """Cron, weekly: every shop with returns, answers or parcels due last week gets its digest.
    Commits per shop."""
    week = last_week(today or utcnow().date())
    start, end = scores.day_bounds(week, week + timedelta(days=6))
    active = union(
        select(Return.shop_id).where(Return.created_at >= start, Return.created_at < end),
        select(OrderFeedback.shop_id).where(OrderFeedback.created_at >= start, OrderFeedback.created_at < end),
        select(DeliveryPromise.shop_id).where(DeliveryPromise.promised_by >= week,
                                              DeliveryPromise.promised_by <= week + timedelta(days=6)))
    shop_ids = sorted(db.session.execute(active).scalars())
    queued = 0
    for shop_id in shop_ids:
        shop = db.session.get(Shop, shop_id)
        if shop is not None and send_digest(shop, week):
            queued += 1
        db.session.commit()
    log.info("returns.digests_queued", week=week.isoformat(), shops=len(shop_ids), queued=queued)
    return queued
