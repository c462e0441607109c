"""A shop's storefront settings (pre-order, back-in-stock, locales, markets) and its own wording of
the status texts; every change refreshes every status of the shop after the commit."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from integration import job_catalog, signals
from integration.extensions import db, queues
from integration.models.base import utcnow
from integration.models.storefront import StockStatusText, StorefrontSettings
from integration.models.upsert import insert
from integration.storefront import cache
from integration.storefront.texts import resolve_locale, validate_override


def settings_for(shop_id: int) -> StorefrontSettings:
    row = db.session.execute(select(StorefrontSettings).where(StorefrontSettings.shop_id == shop_id)
                             ).scalar_one_or_none()
    return row or StorefrontSettings(shop_id=shop_id, allow_preorder=False, back_in_stock=True, notify_per_unit=2.0,
                                     locales=[], default_locale=None, markets=[])


SETTINGS_FIELDS = ("allow_preorder", "back_in_stock", "notify_per_unit", "locales", "default_locale", "markets")


def update_settings(shop_id: int, values: Mapping) -> StorefrontSettings:
    """Insert-or-update the shop's settings (no commit), then refresh every status after commit."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown storefront setting(s): {', '.join(sorted(unknown))}")
    db.session.execute(insert(StorefrontSettings).values(
        shop_id=shop_id, allow_preorder=False, back_in_stock=True, notify_per_unit=2.0, locales=[], markets=[],
        updated_at=utcnow()).on_conflict_do_nothing(index_elements=["shop_id"]))
    row = db.session.execute(select(StorefrontSettings).where(StorefrontSettings.shop_id == shop_id)).scalar_one()
    for key, value in values.items():
        if key == "locales":
            value = [loc for loc in dict.fromkeys(resolve_locale(v, "") for v in value or ()) if loc]
        elif key == "markets":
            value = sorted({str(c).upper() for c in value or () if len(str(c)) == 2})
        elif key == "notify_per_unit":
            value = min(100.0, max(0.0, float(value)))
        setattr(row, key, value)
    row.updated_at = utcnow()
    signals.on_commit(db.session(), lambda: queue_full_refresh(shop_id))
    return row


def overrides_for(shop_id: int) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for locale, key, template in db.session.execute(
            select(StockStatusText.locale, StockStatusText.key, StockStatusText.template)
            .where(StockStatusText.shop_id == shop_id)):
        out.setdefault(locale, {})[key] = template
    return out


def set_text(shop_id: int, locale: str, key: str, template: str | None) -> None:
    """Store (or, with an empty template, remove) a merchant's wording; no commit. Every status
    of the shop is refreshed after the commit."""
    locale = resolve_locale(locale, locale)
    if not template:
        db.session.execute(StockStatusText.__table__.delete().where(
            StockStatusText.shop_id == shop_id, StockStatusText.locale == locale, StockStatusText.key == key))
    else:
        template = validate_override(locale, key, template)
        stmt = insert(StockStatusText).values(shop_id=shop_id, locale=locale, key=key, template=template,
                                              updated_at=utcnow())
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["shop_id", "locale", "key"],
            set_={"template": stmt.excluded.template, "updated_at": stmt.excluded.updated_at}))
    signals.on_commit(db.session(), lambda: queue_full_refresh(shop_id))


def queue_full_refresh(shop_id: int) -> None:
    """After a settings or wording change: every status of the shop, recomputed by a job (edits
    made while that job waits share it; one made after it started gets its own, so the last
    edit always reaches the storefront)."""
    seq = cache.claim_full_refresh(shop_id)
    if seq is not None:
        queues.enqueue("sync", job_catalog.REFRESH_SHOP, shop_id,
                       job_id=job_catalog.refresh_shop_edit_id(shop_id, seq), unique=True)
