"""Handlers for Shopify webhook topics (which topic goes to which: :data:`integration.wiring.HANDLERS`).

Each runs inside ``process_event``'s transaction (committed when it returns, rolled back when it
raises; :class:`PermanentError` from a malformed body marks the event failed without retries).
The shop is resolved by the event's ``X-Shopify-Shop-Domain``; for an unknown or uninstalled shop
the event is logged and dropped, except the mandatory privacy topics, honoured whatever the shop's
status.

Shopify delivers webhooks at least once and in no guaranteed order
(https://shopify.dev/docs/apps/build/webhooks/best-practices): every write is "newer only" on the
body's ``updated_at`` (see :mod:`integration.models.upsert`), so a duplicate or a late older copy
changes nothing. Deletions carry no timestamp: our receipt time stands in for it, so an update
sent before the deletion (older than its receipt) cannot bring the record back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import func, select, update

from connectors.errors import PermanentError

# Not a port: the inbox is the edge where a vendor's webhook body becomes domain dataclasses, and
# these parsers only read the stored body (no I/O), so there is no vendor call to put behind one.
from connectors.shopify import webhook_app, webhook_catalog, webhook_compliance, webhook_fulfillments, webhook_orders
from integration import job_catalog, signals
from integration.extensions import db, queues
from integration.models import (
    Fulfillment,
    InventoryLevel,
    Location,
    Order,
    Shop,
    ShopStatus,
    Variant,
    WebhookEvent,
)
from integration.models.base import utcnow
from integration.models.upsert import newer_only, upsert_if_newer
from integration.orders.intake import store_order
from integration.shops import compliance
from integration.shops import installation as shops

log = structlog.get_logger(__name__)

SOURCE = "shopify"

ShopHandler = Callable[[Shop, WebhookEvent, Any], None]
Handler = Callable[[WebhookEvent, Any], None]


def _find_shop(domain: str | None) -> Shop | None:
    return db.session.execute(select(Shop).where(Shop.domain == domain)).scalar_one_or_none()


def installed_shop(func: ShopHandler) -> Handler:
    """A handler that only runs for an installed shop, as ``func(shop, event, payload)``."""

    @functools.wraps(func)
    def run(event: WebhookEvent, payload: Any) -> None:
        if compliance.is_redacted(payload):
            log.info("shopify_webhook.redacted_body", topic=event.topic, event_id=event.id)
            return
        shop = _find_shop(event.shop_domain)
        if shop is None or shop.status != ShopStatus.INSTALLED:
            log.info("shopify_webhook.shop_not_installed", topic=event.topic, shop=event.shop_domain,
                     known=shop is not None)
            return
        func(shop, event, payload)

    return run


# -- orders -------------------------------------------------------------------------------------


@installed_shop
def order_received(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    if store_order(shop.id, webhook_orders.parse_order(payload)).redacted:
        _forget_body(event)


@installed_shop
def order_cancelled(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    # The body is the whole order with cancelled_at set: storing it sets cancelled_at under the
    # same newer-only rule, and creates the order if the cancellation overtook its creation.
    if store_order(shop.id, webhook_orders.parse_cancelled_order(payload)).redacted:
        _forget_body(event)


def _forget_body(event: WebhookEvent) -> None:
    """A late copy about a redacted customer: do not keep its personal data in the inbox either."""
    event.body = compliance.REDACTED_BODY


@installed_shop
def fulfillment_received(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    data = webhook_fulfillments.parse_fulfillment(payload)
    order_id = redacted_at = None
    if data.order_external_id:
        order_id, redacted_at = db.session.execute(select(Order.id, Order.redacted_at).where(
            Order.shop_id == shop.id, Order.channel == SOURCE, Order.external_id == data.order_external_id,
        )).one_or_none() or (None, None)
    if redacted_at is not None:  # the body carries the customer's email and address
        _forget_body(event)
    key = {"shop_id": shop.id, "external_id": data.external_id}
    before = db.session.execute(select(Fulfillment.shipment_status).where(
        Fulfillment.shop_id == shop.id, Fulfillment.external_id == data.external_id)).first()
    values = {
        "order_external_id": data.order_external_id,
        "status": data.status,
        "shipment_status": data.shipment_status,
        "tracking_company": data.tracking_company,
        "tracking_number": data.tracking_number,
        "tracking_url": data.tracking_url,
    }
    if order_id is not None:  # unknown order: keep any link made earlier, or wait for the order
        values["order_id"] = order_id
    result = upsert_if_newer(Fulfillment, key, values, data.updated_at)
    if not result.applied:
        log.info("fulfillment.stale_copy_ignored", fulfillment=data.external_id)
        return
    log.info("fulfillment.stored", fulfillment=data.external_id, order_id=order_id, status=data.status,
             shipment_status=data.shipment_status)
    if data.shipment_status and (before is None or before[0] != data.shipment_status):
        signals.shipment_status_changed(result.row_id, data.shipment_status)  # type: ignore[arg-type]


# -- catalog ------------------------------------------------------------------------------------


@installed_shop
def inventory_level_updated(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    data = webhook_catalog.parse_inventory_level(payload)
    level, available = data.level, data.level.available
    if available is None:
        log.info("inventory_level.untracked", item=level.inventory_item_id, location=level.location_id)
        return
    key = {"shop_id": shop.id, "inventory_item_id": level.inventory_item_id, "location_shopify_id": level.location_id}
    if upsert_if_newer(InventoryLevel, key, {"available": available}, data.updated_at).applied:
        signals.stock_changed(shop.id, level.inventory_item_id, level.location_id, available)
    else:
        log.info("inventory_level.stale_copy_ignored", item=level.inventory_item_id, location=level.location_id)


@installed_shop
def product_updated(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    product = webhook_catalog.parse_product(payload)
    stamp = product.updated_at  # the body is a snapshot of the product: one clock for its variants
    applied = 0
    for variant in product.variants:
        values: dict[str, Any] = {
            "product_shopify_id": product.id,
            "sku": variant.sku,
            "barcode": variant.barcode,
            # Same naming as the catalog import, so the two sources agree.
            "title": (f"{product.title} - {variant.title}" if product.title else variant.title)[:500],
            "deleted_at": None,
        }
        if variant.inventory_item_id:  # often null here: keep the one the import stored
            values["inventory_item_id"] = variant.inventory_item_id
        applied += upsert_if_newer(Variant, {"shop_id": shop.id, "shopify_id": variant.id}, values, stamp).applied
    removed = 0
    if product.all_variant_ids is not None:
        table = Variant.__table__
        statement = newer_only(update(table), table, stamp).where(
            Variant.shop_id == shop.id, Variant.product_shopify_id == product.id, Variant.deleted_at.is_(None))
        if product.all_variant_ids:
            statement = statement.where(Variant.shopify_id.not_in(product.all_variant_ids))
        removed = db.session.execute(statement.values(deleted_at=utcnow(), external_updated_at=stamp)).rowcount
    log.info("product.stored", product=product.id, variants=len(product.variants), applied=applied, removed=removed)


@installed_shop
def product_deleted(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    product_id = webhook_catalog.parse_deleted_id(payload, "Product")
    table = Variant.__table__
    removed = db.session.execute(
        newer_only(update(table), table, event.received_at)
        .where(Variant.shop_id == shop.id, Variant.product_shopify_id == product_id)
        .values(deleted_at=func.coalesce(Variant.deleted_at, utcnow()), external_updated_at=event.received_at)
    ).rowcount
    log.info("product.deleted", product=product_id, variants=removed)


@installed_shop
def location_received(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    location = webhook_catalog.parse_location(payload)
    # Same address format as the catalog import.
    address = ", ".join(p for p in (location.address1, location.zip, location.city) if p)[:500] or None
    values = {"name": location.name, "address": address, "country_code": location.country_code,
              "active": location.active, "deleted_at": None}
    result = upsert_if_newer(Location, {"shop_id": shop.id, "shopify_id": location.id}, values, location.updated_at)
    log.info("location.stored" if result.applied else "location.stale_copy_ignored", location=location.id)


@installed_shop
def location_deleted(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    location_id = webhook_catalog.parse_deleted_id(payload, "Location")
    # Stored even for a location we never saw: the tombstone keeps a late locations/create out.
    result = upsert_if_newer(Location, {"shop_id": shop.id, "shopify_id": location_id},
                             {"active": False, "deleted_at": utcnow()}, event.received_at)
    log.info("location.deleted", location=location_id, applied=result.applied)


@installed_shop
def bulk_operation_finished(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    operation = webhook_app.parse_bulk_operation_finish(payload)
    # The job reads the results (or records the failure); a unique id keeps a redelivery to one job.
    job_id = job_catalog.bulk_finish_id(operation.id.rsplit("/", 1)[1])
    queued = queues.enqueue("sync", job_catalog.PROCESS_BULK_FINISH, shop.id, operation.id, job_id=job_id, unique=True)
    log.info("bulk_operation.finished", bulk_operation=operation.id, status=operation.status,
             error_code=operation.error_code, enqueued=queued is not None)


# -- app lifecycle ------------------------------------------------------------------------------


@installed_shop
def app_uninstalled(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    webhook_app.parse_app_uninstalled(payload)
    if shop.installed_at and event.received_at < shop.installed_at:
        # Received before the current installation (processing was delayed): it is about the
        # previous one and must not revoke the fresh tokens.
        log.info("shop.stale_uninstall_ignored", shop=shop.domain)
        return
    shops.revoke(shop)  # tokens and expiries to NULL, status uninstalled; data kept until shop/redact
    from integration.storefront import cache as storefront_cache

    domain = shop.domain
    # The storefront proxy answers from a Redis cache of installed shops: forget this one.
    signals.on_commit(db.session(), lambda: storefront_cache.forget_shop(domain))
    log.info("shop.uninstalled", shop=shop.domain)


@installed_shop
def shop_updated(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    # The body (the shop's REST resource) may be older than one already seen: the profile job
    # reads the shop as it is now (integration/shops/profile.py).
    signals.shop_updated(shop.id)
    log.info("shop.updated", shop=shop.domain)


# -- mandatory privacy topics: honoured whatever the shop's status ----------------------------


def privacy_topic(func: Handler) -> Handler:
    """A mandatory privacy topic: honoured whatever the shop's status, unless already erased."""

    @functools.wraps(func)
    def run(event: WebhookEvent, payload: Any) -> None:
        if compliance.is_redacted(payload):  # erased by a later request before we got to it
            log.info("shopify_webhook.redacted_body", topic=event.topic, event_id=event.id)
            return
        func(event, payload)

    return run


def _check_domain(event: WebhookEvent, body_domain: str) -> None:
    # The body names the shop too; a mismatch with the signed header means a forged or misrouted
    # request, and acting on the wrong shop's customers would be the worst possible outcome.
    if body_domain != event.shop_domain:
        raise PermanentError("webhook body: shop_domain does not match X-Shopify-Shop-Domain",
                             field="shop_domain", code="shop_mismatch", system=SOURCE)


@privacy_topic
def customer_data_requested(event: WebhookEvent, payload: Any) -> None:
    request = webhook_compliance.parse_privacy_request(payload, "customers/data_request")
    _check_domain(event, request.shop_domain)
    shop = _find_shop(request.shop_domain)
    if shop is None:
        log.info("compliance.unknown_shop", topic=event.topic, shop=request.shop_domain)
        return
    compliance.data_request(shop, request)


@privacy_topic
def customer_redact_requested(event: WebhookEvent, payload: Any) -> None:
    request = webhook_compliance.parse_privacy_request(payload, "customers/redact")
    _check_domain(event, request.shop_domain)
    # An unknown shop still has inbox bodies to scrub.
    compliance.redact_customer(_find_shop(request.shop_domain), request.customer_id, request.email,
                               request.order_ids, phone=request.phone, shop_domain=request.shop_domain)


@privacy_topic
def shop_redact_requested(event: WebhookEvent, payload: Any) -> None:
    request = webhook_compliance.parse_shop_redact(payload)
    _check_domain(event, request.shop_domain)
    compliance.redact_shop(request.shop_domain, current_event_id=event.id)
