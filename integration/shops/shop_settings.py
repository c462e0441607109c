"""The shop's order and stock settings: whether orders may be split across warehouses, the
safety stock and per-channel buffers held back from what channels are told is available, who sends
customer notices (Nearstock or Shopify) and the low-stock alert threshold. A shop that never saved
them reads the defaults; the first save creates its one row.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from integration import signals
from integration.extensions import db
from integration.models import ShopSettings
from integration.models.base import utcnow
from integration.models.upsert import insert, upsert
from integration.warehouses.setup_validation import InvalidError, boolean, integer, only_fields

CHANNELS = ("shopify", "amazon")
NOTICE_SENDERS = ("nearstock", "shopify")
MAX_UNITS = 1_000_000

# What the storefront status reads: what is available, and from how many units it is "low".
STOREFRONT_FIELDS = frozenset({"safety_stock", "channel_buffers", "low_stock_threshold"})
SETTINGS_FIELDS = ("split_orders", "safety_stock", "channel_buffers", "customer_notices_by", "low_stock_threshold")


def get_settings(shop_id: int) -> ShopSettings:
    found = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop_id)).scalar_one_or_none()
    return found or ShopSettings(shop_id=shop_id, split_orders=True, safety_stock=0, channel_buffers={},
                                 customer_notices_by="nearstock", low_stock_threshold=5)


def update_settings(shop_id: int, data: Mapping) -> ShopSettings:
    only_fields(data, SETTINGS_FIELDS)
    changes: dict = {}
    if "split_orders" in data:
        changes["split_orders"] = boolean(data["split_orders"], "split_orders")
    for field in ("safety_stock", "low_stock_threshold"):
        if field in data:
            changes[field] = integer(data[field], field, 0, MAX_UNITS)
    if "customer_notices_by" in data:
        if data["customer_notices_by"] not in NOTICE_SENDERS:
            raise InvalidError("customer_notices_by", f"must be one of {', '.join(NOTICE_SENDERS)}")
        changes["customer_notices_by"] = data["customer_notices_by"]
    if "channel_buffers" in data:
        buffers = data["channel_buffers"]
        if not isinstance(buffers, Mapping):
            raise InvalidError("channel_buffers", 'must be an object such as {"amazon": 2}')
        for channel in buffers:
            if channel not in CHANNELS:
                raise InvalidError(f"channel_buffers.{str(channel)[:16]}", f"channels are {', '.join(CHANNELS)}")
        changes["channel_buffers"] = {c: integer(v, f"channel_buffers.{c}", 0, MAX_UNITS) for c, v in buffers.items()}
    # Insert-or-get the shop's row, then update it: two first saves never make two rows.
    defaults = get_settings(shop_id)
    db.session.execute(insert(ShopSettings).values(
        shop_id=shop_id, split_orders=defaults.split_orders, safety_stock=defaults.safety_stock,
        channel_buffers=defaults.channel_buffers, customer_notices_by=defaults.customer_notices_by,
        low_stock_threshold=defaults.low_stock_threshold,
    ).on_conflict_do_nothing(index_elements=["shop_id"]))
    row = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop_id)
                             .execution_options(populate_existing=True)).scalar_one()
    for key, value in changes.items():
        setattr(row, key, value)
    if changes.keys() & STOREFRONT_FIELDS:
        signals.warehouse_settings_changed(shop_id)  # the storefront's statuses are worked out again
    db.session.commit()
    return row


def mark_storefront_seen(shop_id: int) -> None:
    """The shop's storefront just called the app proxy: its block is live on a theme. Called on
    the proxy's installed-shop cache miss (once per shop per few minutes), so the stamp is the
    last time the storefront was seen, give or take that cache's lifetime. Commits."""
    upsert(ShopSettings, {"shop_id": shop_id}, {"storefront_seen_at": utcnow()})
    db.session.commit()
