"""Merchant alerts: one row per (shop, kind, subject), so raising the same alert again is a no-op.

The notifications pipeline e-mails new alerts to the merchant; the admin lists open ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy import select

from integration import signals
from integration.extensions import db
from integration.models import Alert, Shop
from integration.models.upsert import insert_rows

log = structlog.get_logger(__name__)

# Kinds the merchant gets in the daily digest (integration/insights/digest.py), not one e-mail
# each: a bad week would otherwise send one per SKU x warehouse, and a stopped order sync makes
# nearly every series "fall" at once.
STOCK_KINDS = frozenset({"low_stock", "stock_out"})
SHIFT_KINDS = frozenset({"demand_rise", "demand_fall"})
DIGEST_KINDS = STOCK_KINDS | SHIFT_KINDS


def raise_alert(shop_id: int, kind: str, subject: str, message: str, details: dict | None = None) -> bool:
    """Record the alert inside the caller's transaction; True when it is new."""
    return bool(raise_alerts(shop_id, [(kind, subject, message, details)]))


def raise_alerts(shop_id: int, alerts: Sequence[tuple[str, str, str, dict | None]]) -> dict[tuple[str, str], int]:
    """Record many (kind, subject, message, details) alerts in one statement, inside the caller's
    transaction; returns {(kind, subject): id} of the new ones (each signalled as one alert)."""
    if not alerts:
        return {}
    # RETURNING, not rowcount: psycopg reports -1 for a skipped ON CONFLICT DO NOTHING.
    rows = insert_rows(Alert, [
        {"shop_id": shop_id, "kind": kind, "subject": subject, "message": message[:2000], "details": details}
        for kind, subject, message, details in alerts],
        lambda statement: statement.on_conflict_do_nothing(index_elements=["shop_id", "kind", "subject"]).returning(
            Alert.id, Alert.kind, Alert.subject)).all()
    created = {(kind, subject): alert_id for alert_id, kind, subject in rows}
    messages = {(kind, subject): message for kind, subject, message, _ in alerts}
    # One query loads the new rows (and the shop) into the session: the receivers' db.session.get
    # finds them there instead of one query per alert.
    loaded = [*db.session.execute(select(Alert).where(Alert.id.in_(list(created.values())))).scalars(),
              db.session.get(Shop, shop_id)] if len(created) > 1 else []
    digested: dict[str, int] = {}
    for (kind, subject), alert_id in created.items():
        signals.send(signals.ALERT_RAISED, alert_id=alert_id)
        if kind in DIGEST_KINDS:  # thousands on a bad night: counted in one line, listed in the digest
            digested[kind] = digested.get(kind, 0) + 1
        else:
            log.warning("alert.raised", shop_id=shop_id, kind=kind, subject=subject, message=messages[(kind, subject)])
    if digested:
        log.info("alert.raised_for_digest", shop_id=shop_id, **digested)
    del loaded
    return created


def open_alerts(shop_id: int, limit: int = 100) -> list[Alert]:
    return list(db.session.execute(
        select(Alert).where(Alert.shop_id == shop_id, Alert.resolved_at.is_(None))
        .order_by(Alert.id.desc()).limit(limit)
    ).scalars())
