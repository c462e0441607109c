"""Amazon as a sales channel: orders in (cursor poll), MFN quantities out, shipments confirmed,
buyer addresses erased 30 days after delivery.

* Orders: one ``searchOrders`` stream per account and marketplace, its cursors kept together in
  ``sync_cursors`` (stream ``amazon-orders:<account_id>``, a JSON object marketplace -> cursor),
  saved in the transaction that stored the page's orders. Merchant-fulfilled (``amazon``) orders are
  stored like Shopify's (``store_order``: newer-copy rule, ``order_changed``) and routed. Amazon-
  fulfilled (``amazon_afn``) orders are stored for demand figures only: Amazon ships them from its
  own stock, so they are marked allocated in the same transaction and allocation never routes them.
  The buyer's address is fetched by the connector only for MFN orders still to ship.
* Quantities: :mod:`integration.stock.amazon_quantities`.
* Shipments: one ``confirmShipment`` per Shipment row (one package), recorded in
  ``amazon_shipment_confirmations``; the package reference is derived from the shipment id, so a
  retried confirmation names the same package and Amazon treats it as the same.
* Erasure: Amazon's Data Protection Policy keeps buyer PII at most 30 days after delivery
  (https://developer-docs.amazon.com/sp-api/docs/data-protection-policy).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update

from connectors.errors import PermanentError
from integration.amazon.sp_api_client import seller_for
from integration.domain.channels import CHANNEL_AFN, CHANNEL_MFN, ShipmentPackage
from integration.domain.orders import OrderData
from integration.extensions import db
from integration.models import Order, OrderLine, Shipment
from integration.models.amazon import AmazonAccount, AmazonOrder, AmazonShipmentConfirmation
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.orders.intake import store_order
from integration.shops.alerts import raise_alert
from integration.stock.sync import load_cursor, save_cursor

log = structlog.get_logger(__name__)
# Raised when a disconnected account has shipments to confirm; cleared when it connects again.
DISCONNECTED_ALERT = "amazon_account_disconnected"

CHANNELS = (CHANNEL_MFN, CHANNEL_AFN)
MAX_PAGES = 10  # pages per marketplace per import run (searchOrders refills slowly anyway)
ERASE_AFTER = timedelta(days=30)
ASSUMED_TRANSIT = timedelta(days=30)
"""A shipment whose delivery we never heard of counts as delivered this long after it shipped."""


def orders_stream(account_id: int) -> str:
    return f"amazon-orders:{account_id}"


# -- orders in ----------------------------------------------------------------------------------


@dataclass
class ImportStats:
    pages: int = 0
    stored: int = 0
    stale: int = 0
    mfn: int = 0
    afn: int = 0
    order_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"pages": self.pages, "stored": self.stored, "stale": self.stale, "mfn": self.mfn, "afn": self.afn}


def import_orders(account_id: int, *, max_pages: int = MAX_PAGES, since: datetime | None = None,
                  now: Callable[[], datetime] | None = None) -> ImportStats:
    """Poll every marketplace of the account from its stored cursor, store the orders, save the cursor."""
    stats = ImportStats()
    account = db.session.get(AmazonAccount, account_id)
    if account is None or not account.active:
        return stats
    shop_id, stream = account.shop_id, orders_stream(account_id)
    positions = _positions(load_cursor(shop_id, stream))
    db.session.commit()  # no transaction held open across HTTP calls
    for marketplace_id in list(account.marketplaces or []):
        seller = seller_for(account, marketplace_id)
        for _ in range(max_pages):
            page = seller.poll_orders(positions.get(marketplace_id), since=since, now=now)
            for order in page.orders:
                store_amazon_order(account, marketplace_id, order, stats)
            positions[marketplace_id] = page.cursor
            # Same transaction as the orders: a crash before this commit re-reads the page, and
            # the newer-copy rule makes the second copy a no-op.
            save_cursor(shop_id, stream, json.dumps(positions, sort_keys=True))
            db.session.commit()
            stats.pages += 1
            if not page.has_more:
                break
    log.info("amazon.orders_imported", account_id=account_id, **stats.as_dict())
    return stats


def _positions(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items() if v} if isinstance(data, dict) else {}


_KEEP = ("email", "phone", "customer_name", "shipping_address", "billing_address", "shipping_country")


def store_amazon_order(account: AmazonAccount, marketplace_id: str, order: OrderData, stats: ImportStats) -> int:
    """Store one order (caller commits). AFN orders are claimed as allocated so routing skips them."""
    previous = db.session.execute(
        select(*(getattr(Order, c) for c in _KEEP)).where(
            Order.shop_id == account.shop_id, Order.channel == order.channel, Order.external_id == order.external_id)
    ).one_or_none()
    stored = store_order(account.shop_id, order)
    if not stored.applied:
        stats.stale += 1
        return stored.order_id
    stats.stored += 1
    stats.order_ids.append(stored.order_id)
    if (previous is not None and previous.shipping_address and order.shipping_address is None
            and not stored.redacted):
        # Copies after shipment come without the address (we do not ask for it any more): keep the
        # one we have until erase_addresses() removes it on Amazon's schedule.
        db.session.execute(update(Order).where(Order.id == stored.order_id).values(
            {c: getattr(previous, c) for c in _KEEP}))
    db.session.execute(insert(AmazonOrder).values(
        order_id=stored.order_id, account_id=account.id, marketplace_id=marketplace_id, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["order_id"]))
    if order.channel == CHANNEL_AFN:
        stats.afn += 1
        # Amazon fulfils it from FBA stock: never route it to one of our warehouses. The claim is
        # in the same transaction as order_changed's enqueue, so the allocation job finds it taken.
        db.session.execute(update(Order).where(Order.id == stored.order_id, Order.allocated_at.is_(None))
                           .values(allocated_at=utcnow()))
    else:
        stats.mfn += 1
    return stored.order_id


def active_account_ids() -> list[int]:
    ids = db.session.execute(select(AmazonAccount.id).where(AmazonAccount.active.is_(True))
                             .order_by(AmazonAccount.id)).scalars().all()
    db.session.commit()
    return list(ids)


# -- shipments out ------------------------------------------------------------------------------


def package_reference(shipment_id: int) -> str:
    return f"NS-{shipment_id}"


def confirm_amazon_shipment(shipment_id: int) -> str:
    """Confirm one shipment (one package) of an MFN order on Amazon, once."""
    session = db.session
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        return "gone"
    order = session.get(Order, shipment.order_id)
    if order is None or order.channel != CHANNEL_MFN:
        return "not_amazon"
    done = session.get(AmazonShipmentConfirmation, shipment_id)
    if done is not None and done.confirmed_at is not None:
        return "already_confirmed"
    link = session.get(AmazonOrder, order.id)
    account = session.get(AmazonAccount, link.account_id) if link else None
    if account is None:
        raise PermanentError(f"order {order.id}: no Amazon account/marketplace on record", code="no_account",
                             system="amazon")
    if not account.active:
        # Disconnected: we hold no token to call Amazon with. Nothing is recorded, so the shipment
        # stays unconfirmed and the cron sweep confirms it once the seller connects again.
        if raise_alert(order.shop_id, DISCONNECTED_ALERT, f"account:{account.id}",
                       f"Amazon account {account.name} is disconnected: shipments of its orders are not "
                       "confirmed on Amazon until it is connected again", {"account_id": account.id}):
            session.commit()
        log.warning("amazon.confirm_waiting_for_account", shipment_id=shipment_id, account_id=account.id)
        return "account_inactive"
    try:
        package = ShipmentPackage(
            package_reference_id=package_reference(shipment.id), carrier=shipment.carrier or "",
            tracking_number=shipment.tracking_number, ship_date=shipment.shipped_at or utcnow(),
            items=_package_items(order.id, shipment.lines or []))
        seller = seller_for(account, link.marketplace_id)
        session.commit()  # no transaction held open across the HTTP call
        seller.confirm_shipment(order.external_id, package)
    except PermanentError as exc:
        session.rollback()
        _record_confirmation(shipment, error=str(exc)[:2000])
        raise_alert(order.shop_id, "amazon_confirm_failed", f"shipment:{shipment.id}",
                    f"Amazon order {order.external_id}: shipment {shipment.tracking_number} could not be confirmed",
                    {"error": str(exc)[:500]})
        session.commit()
        log.warning("amazon.confirm_refused", shipment_id=shipment_id, error=str(exc))
        return "refused"
    _record_confirmation(shipment, confirmed=True)
    session.commit()
    log.info("amazon.shipment_confirmed", shipment_id=shipment_id, order=order.external_id)
    return "confirmed"


def _record_confirmation(shipment: Shipment, *, confirmed: bool = False, error: str | None = None) -> None:
    now = utcnow()
    values = {"shipment_id": shipment.id, "shop_id": shipment.shop_id, "order_id": shipment.order_id,
              "package_reference_id": package_reference(shipment.id), "error": error,
              "confirmed_at": now if confirmed else None, "created_at": now}
    stmt = insert(AmazonShipmentConfirmation).values(values)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["shipment_id"], set_={
        "error": stmt.excluded.error, "confirmed_at": stmt.excluded.confirmed_at}))


def _package_items(order_id: int, lines: list) -> tuple[tuple[str, int], ...]:
    """Shipment lines ([sku, qty]) as Amazon order item ids (our OrderLine.external_id)."""
    order_lines = db.session.execute(select(OrderLine).where(OrderLine.order_id == order_id)
                                     .order_by(OrderLine.id)).scalars().all()
    left = {ln.id: ln.quantity for ln in order_lines}
    items: dict[str, int] = {}
    for sku, quantity in lines:
        quantity = int(quantity)
        for ln in order_lines:
            if quantity <= 0:
                break
            if ln.sku == sku and left[ln.id] > 0:
                take = min(quantity, left[ln.id])
                left[ln.id] -= take
                quantity -= take
                items[ln.external_id] = items.get(ln.external_id, 0) + take
        if quantity > 0:
            raise PermanentError(f"shipment holds {quantity} unit(s) of {sku} the order does not", field="lines",
                                 code="unknown_line", system="amazon")
    return tuple(items.items())


def unconfirmed_shipment_ids(older_than: datetime | None = None) -> list[int]:
    """Shipments of MFN Amazon orders of active accounts not yet confirmed (nor refused): the sweep's work."""
    query = (select(Shipment.id).join(Order, Order.id == Shipment.order_id)
             .outerjoin(AmazonShipmentConfirmation, AmazonShipmentConfirmation.shipment_id == Shipment.id)
             .join(AmazonOrder, AmazonOrder.order_id == Order.id)
             .join(AmazonAccount, AmazonAccount.id == AmazonOrder.account_id)
             # A disconnected account's shipments wait (no job every sweep) until it is connected again.
             .where(Order.channel == CHANNEL_MFN, AmazonShipmentConfirmation.shipment_id.is_(None),
                    AmazonAccount.active.is_(True)))
    if older_than is not None:
        query = query.where(Shipment.created_at <= older_than)
    ids = db.session.execute(query.order_by(Shipment.id)).scalars().all()
    db.session.commit()
    return list(ids)


# -- Amazon's data protection policy ------------------------------------------------------------


def erase_addresses(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Erase buyer PII of Amazon orders delivered (or cancelled) more than 30 days ago. Returns how many.

    Delivery is the shipments' ``delivered_at`` (latest parcel); a parcel never reported delivered
    counts as delivered ``ASSUMED_TRANSIT`` after it shipped; an order without parcels (AFN, or
    cancelled) counts from its last update by Amazon. ``shipping_country`` is kept (not personal
    on its own); ``redacted_at`` makes later copies from Amazon keep no personal data either.
    """
    now = now or utcnow()
    cutoff = now - ERASE_AFTER
    # An order's last update by Amazon precedes its delivery, so this bounds the candidates.
    candidates = db.session.execute(
        select(Order.id, Order.external_updated_at, Order.cancelled_at).where(
            Order.channel.in_(CHANNELS), Order.redacted_at.is_(None), Order.external_updated_at <= cutoff)
        .order_by(Order.id)
    ).all()
    erased = 0
    for start in range(0, len(candidates), chunk):
        part = candidates[start:start + chunk]
        shipments: dict[int, list[tuple]] = {}
        for order_id, shipped_at, delivered_at in db.session.execute(
                select(Shipment.order_id, Shipment.shipped_at, Shipment.delivered_at)
                .where(Shipment.order_id.in_([c.id for c in part]))).all():
            shipments.setdefault(order_id, []).append((shipped_at, delivered_at))
        due = []
        for order_id, updated_at, cancelled_at in part:
            parcels = shipments.get(order_id)
            if parcels:
                delivered = max(d or ((s or updated_at) + ASSUMED_TRANSIT) for s, d in parcels)
            else:
                delivered = cancelled_at or updated_at
            if delivered <= cutoff:
                due.append(order_id)
        if due:
            db.session.execute(update(Order).where(Order.id.in_(due), Order.redacted_at.is_(None)).values(
                {**dict.fromkeys(Order.__pii__), "redacted_at": now}))
            erased += len(due)
        db.session.commit()
    if erased:
        log.info("amazon.addresses_erased", orders=erased)
    return erased
