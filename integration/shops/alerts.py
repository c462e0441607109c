"""Merchant alerts: one row per (shop, kind, subject), so raising the same alert again is a no-op.

The notifications pipeline e-mails new alerts to the merchant; the admin lists open ones.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from integration import signals
from integration.extensions import db
from integration.models import Alert
from integration.models.upsert import insert

log = structlog.get_logger(__name__)

# Kinds the merchant gets in the daily stock digest (integration/insights/digest.py), not one
# e-mail each: a bad week would otherwise send one per SKU x warehouse.
DIGEST_KINDS = frozenset({"low_stock", "stock_out"})


def raise_alert(shop_id: int, kind: str, subject: str, message: str, details: dict | None = None) -> bool:
    """Record the alert inside the caller's transaction; True when it is new."""
    # RETURNING, not rowcount: psycopg reports -1 for a skipped ON CONFLICT DO NOTHING.
    alert_id = db.session.execute(
        insert(Alert)
        .values(shop_id=shop_id, kind=kind, subject=subject, message=message[:2000], details=details)
        .on_conflict_do_nothing(index_elements=["shop_id", "kind", "subject"])
        .returning(Alert.id)
    ).scalar()
    inserted = alert_id is not None
    if inserted:
        signals.send(signals.ALERT_RAISED, alert_id=alert_id)
        log.warning("alert.raised", shop_id=shop_id, kind=kind, subject=subject, message=message)
    return bool(inserted)


def open_alerts(shop_id: int, limit: int = 100) -> list[Alert]:
    return list(db.session.execute(
        select(Alert).where(Alert.shop_id == shop_id, Alert.resolved_at.is_(None))
        .order_by(Alert.id.desc()).limit(limit)
    ).scalars())
