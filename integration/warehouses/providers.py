"""Builds the warehouse provider connector for an account, logging every call and alerting the
merchant once per vendor value the connector does not know."""

from __future__ import annotations

import json

import structlog
from rq import get_current_job
from sqlalchemy import insert

from connectors.warehouses import registry
from connectors.warehouses.base import BaseProvider, CallRecord, UnknownValue
from integration.extensions import db, redis
from integration.models import IntegrationLog, Warehouse, WarehouseAccount
from integration.models.integration_log import EXCERPT_CHARS
from integration.shops.alerts import raise_alert

log = structlog.get_logger(__name__)


def provider_for(account: WarehouseAccount) -> BaseProvider:
    return registry.build(
        account.provider,
        json.loads(account.credentials),
        redis=redis.client,
        account_key=str(account.id),
        endpoint=account.endpoint or None,
        on_call=lambda record: record_call(account.shop_id, record),
        on_unknown=lambda unknown: report_unknown(account.shop_id, unknown),
    )


def provider_for_warehouse(warehouse: Warehouse) -> BaseProvider:
    return provider_for(db.session.get(WarehouseAccount, warehouse.account_id))


def report_unknown(shop_id: int, unknown: UnknownValue) -> None:
    """One open alert per unknown (provider, field, value): a new vendor code is looked at by a
    person, while the connector has already read it the safe way. Recorded in the caller's
    transaction; a job that rolls back raises it again on its next run."""
    subject = f"{unknown.system}:{unknown.field}:{unknown.value}"[:128]
    raise_alert(shop_id, "warehouse_unknown_value", subject,
                f"{unknown.system} sent {unknown.field} = {unknown.value!r}, which Nearstock does not know"
                + (f" (for {unknown.context})" if unknown.context else "")
                + "; it was read conservatively. Please tell support so the mapping can be added.",
                {"system": unknown.system, "field": unknown.field, "value": unknown.value, "context": unknown.context})


def record_call(shop_id: int, record: CallRecord) -> None:
    """One integration_log row per provider call, outside the caller's transaction."""
    job = get_current_job()
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(IntegrationLog).values(
                shop_id=shop_id, system=record.system, operation=record.operation[:128],
                external_id=(record.external_id or "")[:255] or None, job_id=job.id if job else None,
                status="ok" if not record.error else "failed",
                request_excerpt=record.request_excerpt[:EXCERPT_CHARS] or None,
                response_excerpt=record.response_excerpt[:EXCERPT_CHARS] or None,
                error=record.error, duration_ms=record.duration_ms,
            ))
    except Exception as exc:  # logging a call must never break the call
        log.warning("integration_log.write_failed", error=type(exc).__name__)
