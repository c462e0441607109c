"""Writes the connectors' call records (Shopify, Amazon, the warehouse providers) into
``integration_log`` and counts them in the vendor call metrics."""

from __future__ import annotations

import structlog
from rq import get_current_job
from sqlalchemy import insert

from connectors.call_record import CallRecord
from integration import metrics
from integration.extensions import db
from integration.models import IntegrationLog
from integration.models.integration_log import EXCERPT_CHARS

log = structlog.get_logger(__name__)


def record_call(shop_id: int, record: CallRecord) -> None:
    """One integration_log row per HTTP call, written outside the caller's transaction so it
    survives the caller's rollback (a failed job is exactly when the log matters)."""
    metrics.observe_vendor_call(record)
    job = get_current_job()
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(IntegrationLog).values(
                shop_id=shop_id, system=record.system, operation=record.operation[:128],
                external_id=(record.external_id or "")[:255] or None, job_id=job.id if job else None,
                status="ok" if not record.error else "failed",
                request_excerpt=record.request_excerpt[:EXCERPT_CHARS] or None,
                response_excerpt=record.response_excerpt[:EXCERPT_CHARS] or None,
                error=record.error or None, duration_ms=record.duration_ms,
            ))
    except Exception as exc:  # logging the call must never break the call
        log.warning("integration_log.write_failed", error=type(exc).__name__)
