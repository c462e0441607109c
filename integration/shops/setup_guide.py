"""The admin home's setup guide: each step is done when the shop's real state says so.

Nothing here is a checkbox the merchant ticks: a warehouse account exists, every active warehouse
is mapped to a Shopify location, the storefront has called the app proxy (the block is on a live
theme), the loyalty program is on, a test notice went out. Each step names the admin page that
does it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from integration.extensions import db
from integration.models import ShopSettings, Warehouse, WarehouseAccount
from integration.models.loyalty import LoyaltyProgram
from integration.models.notification import Notification, NotificationStatus

# The subject of a test notice: "test:<the click's idempotency key>" (see notices/test_notice.py).
TEST_SUBJECT_PREFIX = "test:"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _warehouse_counts(shop_id: int) -> tuple[int, int, int]:
    """(active accounts, active warehouses, of which mapped to a location)."""
    accounts = db.session.execute(
        select(func.count()).select_from(WarehouseAccount)
        .where(WarehouseAccount.shop_id == shop_id, WarehouseAccount.active.is_(True))).scalar_one()
    warehouses, mapped = db.session.execute(
        select(func.count(), func.count(Warehouse.location_shopify_id))
        .join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
        .where(Warehouse.shop_id == shop_id, Warehouse.active.is_(True), WarehouseAccount.active.is_(True))).one()
    return accounts, warehouses, mapped


def _last_test_notice(shop_id: int) -> Notification | None:
    return db.session.execute(
        select(Notification)
        .where(Notification.shop_id == shop_id, Notification.subject.startswith(TEST_SUBJECT_PREFIX))
        .order_by(Notification.id.desc()).limit(1)).scalar_one_or_none()


def setup_steps(shop_id: int) -> list[dict]:
    """The steps in the order a merchant takes them, each ``{"id", "done", "page", ...facts}``."""
    accounts, warehouses, mapped = _warehouse_counts(shop_id)
    seen_at = db.session.execute(
        select(ShopSettings.storefront_seen_at).where(ShopSettings.shop_id == shop_id)).scalar_one_or_none()
    loyalty_on = db.session.execute(
        select(LoyaltyProgram.enabled).where(LoyaltyProgram.shop_id == shop_id)).scalar_one_or_none()
    notice = _last_test_notice(shop_id)
    return [
        {"id": "connect_warehouse", "page": "warehouses", "done": accounts > 0, "accounts": accounts},
        # Done once there is something to map and all of it is mapped.
        {"id": "map_locations", "page": "warehouses", "done": warehouses > 0 and mapped == warehouses,
         "warehouses": warehouses, "mapped": mapped},
        {"id": "storefront_block", "page": "storefront", "done": seen_at is not None,
         "seen_at": _iso(seen_at)},
        {"id": "loyalty", "page": "loyalty", "done": bool(loyalty_on)},
        {"id": "test_notice", "page": "notices",
         "done": notice is not None and notice.status == NotificationStatus.SENT,
         "last": None if notice is None else {
             "id": notice.id, "kind": notice.kind, "status": notice.status, "error": notice.last_error,
             "created_at": _iso(notice.created_at), "sent_at": _iso(notice.sent_at)}},
    ]
