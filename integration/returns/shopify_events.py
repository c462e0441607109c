"""Shopify's ``returns/*`` webhooks (HANDLERS in integration/wiring.py), in ``process_event``'s
transaction.

* ``returns/request``: a customer asked for a return (customer accounts' self-serve returns, or
  our tracking page's form, which files it through Shopify): stored once and decided by the rules
  (integration/returns/intake.py). The body's lines carry no SKU, so the return is read once.
* ``returns/approve`` / ``returns/decline``: the merchant decided in Shopify's own admin. A
  return still waiting for a decision here takes it (and its job runs: the RMA at the local
  warehouse, or the customer's notice); a return the merchant made and approved in Shopify's
  admin is stored as approved. Our own approvals and declines come back as these topics too: the
  return has moved on, and nothing happens.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

# Not a port: the inbox's edge, where the stored webhook body becomes domain dataclasses (no I/O).
from connectors.shopify.webhook_returns import parse_return, parse_return_status
from integration.extensions import db
from integration.inbox.shopify_handlers import installed_shop
from integration.models import Return, ReturnState, Shop, WebhookEvent
from integration.returns.intake import mark_approved, mark_declined, store_request
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)


def _find(shop_id: int, shopify_return_id: str) -> Return | None:
    return db.session.execute(select(Return).where(
        Return.shop_id == shop_id, Return.shopify_return_id == shopify_return_id)).scalar_one_or_none()


@installed_shop
def return_requested(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    requested = parse_return(payload)
    if _find(shop.id, requested.id) is not None:
        log.info("return.known", shop_id=shop.id, shopify_return_id=requested.id)
        return
    store_request(shop.id, store_for(shop).get_return(requested.id))


@installed_shop
def return_approved(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    approved = parse_return(payload)
    ret = _find(shop.id, approved.id)
    if ret is None:
        store_request(shop.id, store_for(shop).get_return(approved.id), source="merchant", approved_by="merchant")
    elif ret.status == ReturnState.REQUESTED:
        mark_approved(ret, "merchant")
    else:
        log.info("return.approve_ignored", return_id=ret.id, status=ret.status)


@installed_shop
def return_declined(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    declined = parse_return_status(payload)
    ret = _find(shop.id, declined.id)
    if ret is None or ret.status != ReturnState.REQUESTED:
        log.info("return.decline_ignored", return_id=ret and ret.id, status=ret and ret.status)
        return
    mark_declined(ret, "merchant", declined.decline_reason or "OTHER", declined.decline_note)
