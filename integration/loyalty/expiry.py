"""Points expire by lot: what is left of a credit when its ``expires_at`` passes becomes an
``expire`` entry. Found through a partial index on open lots only, so the sweep costs what is due,
not what the history holds."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import func, select

from integration.domain import loyalty as domain
from integration.extensions import db
from integration.loyalty import ledger
from integration.loyalty.program import load_rules
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyAccount, LoyaltyEntry, LoyaltyLot

log = structlog.get_logger(__name__)


def expire_lot(lot_id: int, *, now: datetime | None = None) -> int:
    """Expire what is left of one lot (no commit). Returns the points expired."""
    now = now or utcnow()
    lot = db.session.execute(select(LoyaltyLot.account_id, LoyaltyLot.expires_at)
                             .where(LoyaltyLot.id == lot_id)).first()
    if lot is None or lot.expires_at is None or lot.expires_at > now:
        return 0
    shop_id = db.session.execute(select(LoyaltyAccount.shop_id).where(LoyaltyAccount.id == lot.account_id)).scalar_one()
    ledger.lock(lot.account_id)  # read what is left only once nobody else can take from it
    remaining = db.session.execute(select(LoyaltyLot.remaining).where(LoyaltyLot.id == lot_id)).scalar_one()
    if remaining <= 0:
        return 0
    # One entry per expiry of this lot: a lot refilled by a returned redemption expires again.
    done = db.session.execute(select(func.count()).where(
        LoyaltyEntry.shop_id == shop_id, LoyaltyEntry.source == "lot", LoyaltyEntry.source_id == str(lot_id))).scalar()
    posted = ledger.take_back(shop_id, lot.account_id, remaining, kind=domain.EXPIRE, source="lot",
                               source_id=str(lot_id), rule=f"expire:{done + 1}", rules=load_rules(shop_id), now=now,
                               prefer_lot=lot_id)
    return -posted.points if posted else 0


def expire_due(now: datetime | None = None, limit: int = 1000) -> int:
    """Expire every lot due by ``now`` (up to ``limit``), committing per lot. Returns points expired."""
    now = now or utcnow()
    ids = list(db.session.execute(select(LoyaltyLot.id).where(
        LoyaltyLot.remaining > 0, LoyaltyLot.expires_at <= now).order_by(LoyaltyLot.expires_at).limit(limit)).scalars())
    total = 0
    for lot_id in ids:
        total += expire_lot(lot_id, now=now)
        db.session.commit()
    if total:
        log.info("ledger.expired", lots=len(ids), points=total)
    return total
