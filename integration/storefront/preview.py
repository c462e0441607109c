"""The stock status block as a shopper would see it, for the admin's live preview: a product in
one stock situation, judged by the same rules (:func:`integration.domain.stock_status.status_for`)
and worded by the same texts (:func:`integration.storefront.texts.render`) as every real variant,
with the merchant's saved settings and wording or the unsaved ones being typed.

The product is shipped from the shop's first live warehouse (its country, handling time and
transit days) to a shopper in that warehouse's country; a shop without a warehouse yet previews a
warehouse in its own country with no delivery estimate (none is promised without transit days).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from integration.domain.routing import Candidate
from integration.domain.stock_status import Policy, WarehouseStock, status_for
from integration.extensions import db
from integration.models import Shop, Warehouse
from integration.storefront.settings import overrides_for, settings_for
from integration.storefront.texts import render

# state -> what the previewed product has: units for sale now, units inbound
STATES = ("in_stock", "low", "out", "preorder")
INBOUND_IN_DAYS = 10  # "restock on the way": inbound stock expected this many days from today
SKU = "PREVIEW"


def _warehouse(shop: Shop) -> tuple[Candidate, int, bool]:
    from integration.orders.allocation import candidates

    live = sorted(candidates(shop.id), key=lambda c: (c.priority, c.id))
    if not live:
        return Candidate(id=0, name="", country_code=(shop.country_code or "US").upper()), 24, True
    hours = db.session.execute(select(Warehouse.handling_hours).where(Warehouse.id == live[0].id)).scalar_one()
    return live[0], hours or 0, False


def _stock(state: str, threshold: int, warehouse: Candidate, hours: int, today: date) -> WarehouseStock:
    if state == "in_stock":
        return WarehouseStock(warehouse, threshold + 10, hours)
    if state == "low":
        # The most a "low" product can have, at most 3; a threshold of 0 has no low state at all.
        return WarehouseStock(warehouse, max(1, min(threshold, 3)), hours)
    if state == "preorder":  # sold out, a restock on its way: pre-order when the shop allows it
        return WarehouseStock(warehouse, 0, hours, inbound=20, inbound_eta=today + timedelta(days=INBOUND_IN_DAYS))
    return WarehouseStock(warehouse, 0, hours)


def preview(shop: Shop, state: str, language: str, *, settings: Mapping | None = None,
            texts: Mapping[str, str] | None = None, today: date | None = None) -> dict:
    """What the block shows for ``state`` in ``language``: the document record a real variant gets
    (code, quantity, eta_days, arrives_on, subscribe) and its texts (status, plain, eta); ``market``
    is the shopper's country, ``sample_warehouse`` says the shop has no live warehouse yet.
    ``settings`` (``allow_preorder``, ``low_stock_threshold``) and ``texts`` (``{key: template}``,
    ``""`` for the default) are unsaved values, checked by the caller; the rest is what is saved."""
    from integration.shops.shop_settings import get_settings

    settings = settings or {}
    today = today or datetime.now(UTC).date()
    threshold = settings.get("low_stock_threshold", get_settings(shop.id).low_stock_threshold)
    allow = settings.get("allow_preorder", bool(settings_for(shop.id).allow_preorder))
    overrides = {loc: dict(by_key) for loc, by_key in overrides_for(shop.id).items()}
    for key, template in (texts or {}).items():
        if template:
            overrides.setdefault(language, {})[key] = template
        else:
            overrides.get(language, {}).pop(key, None)
    warehouse, hours, sample = _warehouse(shop)
    market = warehouse.country_code
    status = status_for(SKU, market, [_stock(state, threshold, warehouse, hours, today)],
                        Policy(max(0, threshold), bool(allow)), today)
    db.session.rollback()  # read only: no transaction left open
    return {"state": state, "language": language, "market": market, "sample_warehouse": sample, **status.as_dict(),
            **render(status, market, language, overrides)}
