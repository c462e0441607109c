"""Handlers for verified warehouse webhooks (stored in the inbox by views/warehouse_webhooks.py).

A provider's webhook is treated as a trigger: "outbound X changed" or "stock changed". The job
re-reads the current state from the provider instead of trusting the payload, so a late,
duplicated or reordered webhook can never move state backwards.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError
from integration import job_catalog
from integration.extensions import db, queues
from integration.models import OutboundOrder, OutboundState, WarehouseAccount, WebhookEvent
from integration.orders import outbound, tracking

log = structlog.get_logger(__name__)


def warehouse_event(event: WebhookEvent, payload: Any) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("account_id"), int):
        raise PermanentError("warehouse event without an account id")
    account = db.session.get(WarehouseAccount, payload["account_id"])
    if account is None or not account.active:
        log.info("warehouse_event.account_gone", account_id=payload["account_id"])
        return
    reference = payload.get("reference")
    if event.topic == "inventory":
        queues.enqueue("sync", job_catalog.POLL_INVENTORY, account.id,
                       job_id=job_catalog.poll_inventory_webhook_id(account.id, event.id), unique=True)
        return
    if not isinstance(reference, str) or not reference:
        return
    found = db.session.execute(select(OutboundOrder.id).where(
        OutboundOrder.reference == reference, OutboundOrder.shop_id == account.shop_id)).scalar_one_or_none()
    if found is None:
        log.info("warehouse_event.unknown_reference", reference=reference[:64])
        return
    status = outbound.poll_outbound(found)
    if status in (OutboundState.SHIPPED, OutboundState.DELIVERED):
        tracking.poll_tracking(found)
