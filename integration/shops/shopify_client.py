"""Builds the per-shop Admin GraphQL client and records each call in ``integration_log``."""

from __future__ import annotations

import structlog
from flask import current_app
from rq import get_current_job
from sqlalchemy import insert

from connectors.shopify.client import CallRecord, ShopifyClient
from integration.extensions import db, redis
from integration.models import IntegrationLog, Shop
from integration.models.integration_log import EXCERPT_CHARS
from integration.shops import installation

log = structlog.get_logger(__name__)


def client_for(shop: Shop) -> ShopifyClient:
    config = current_app.config["NEARSTOCK"]
    return ShopifyClient(
        shop.domain,
        installation.access_token(shop),
        redis=redis.client,
        endpoint=config.shopify_endpoint or None,
        on_call=lambda record: record_call(shop.id, record),
    )


def record_call(shop_id: int, record: CallRecord) -> None:
    """One integration_log row per HTTP call, written outside the caller's transaction so it
    survives the caller's rollback (a failed job is exactly when the log matters)."""
    job = get_current_job()
    try:
        with db.engine.begin() as conn:
            conn.execute(
                insert(IntegrationLog).values(
                    shop_id=shop_id,
                    system="shopify",
                    operation=record.operation[:128],
                    job_id=job.id if job else None,
                    status="ok" if not record.error else "failed",
                    request_excerpt=(record.request_excerpt or "")[:EXCERPT_CHARS] or None,
                    response_excerpt=(record.response_excerpt or "")[:EXCERPT_CHARS] or None,
                    error=(record.error or None),
                    duration_ms=record.duration_ms,
                )
            )
    except Exception as exc:  # logging the call must never break the call
        log.warning("integration_log.write_failed", error=type(exc).__name__)
