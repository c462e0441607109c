"""Loyalty jobs: earn for a parcel, reconcile an order's reversals, issue a code, and the periodic
sweeps (points that should have been earned, lots that expired, codes that expired, lost issue
jobs, member days, birthdays, tiers as months roll off).

All take ids (or nothing) and re-read state; each is safe to run twice or to be killed half-way.
"""

from __future__ import annotations

import time

import structlog
from sqlalchemy import select

from integration.extensions import db
from integration.loyalty import admin, earning, expiry, rewards
from integration.models import Shop, ShopStatus
from integration.models.loyalty import LoyaltyProgram
from jobs.runtime import job

log = structlog.get_logger(__name__)

REQUEUE_ROUND = 600  # seconds: a lost issue job is re-enqueued at most once per round


@job
def earn_for_shipment(shipment_id: int) -> str:
    return earning.earn_for_shipment(shipment_id)


@job
def reconcile_order(order_id: int) -> int:
    reversed_points = earning.reconcile_order(order_id)
    db.session.commit()
    return reversed_points


@job
def issue_reward(reward_id: int) -> str:
    return rewards.issue_reward(reward_id)


@job
def reevaluate_shop(shop_id: int) -> int:
    return admin.reevaluate_shop(shop_id)


# -- cron ---------------------------------------------------------------------------------------


def _program_shops() -> list[Shop]:
    return list(db.session.execute(select(Shop).join(LoyaltyProgram, LoyaltyProgram.shop_id == Shop.id).where(
        LoyaltyProgram.enabled.is_(True), Shop.status == ShopStatus.INSTALLED).order_by(Shop.id)).scalars())


@job
def sweep_unearned() -> int:
    """Parcels that shipped without their points (no tracking update yet, a lost job)."""
    done = 0
    for shipment_id in earning.unearned_shipment_ids():
        try:
            if earning.earn_for_shipment(shipment_id) == "earned":
                done += 1
        except Exception:  # one bad parcel must not stop the others; it is retried next round
            db.session.rollback()
            log.exception("loyalty.sweep_earn_failed", shipment_id=shipment_id)
    return done


@job
def expire_points() -> int:
    return expiry.expire_due()


@job
def close_expired_rewards() -> dict:
    return rewards.close_expired()


@job
def requeue_pending_rewards() -> int:
    ids = rewards.stale_pending_ids()
    window = int(time.time() // REQUEUE_ROUND)
    for reward_id in ids:
        rewards.enqueue_issue(reward_id, suffix=f"-r{window}")
    return len(ids)


@job
def member_days() -> int:
    return sum(rewards.schedule_member_days(shop) for shop in _program_shops())


@job
def birthdays() -> int:
    return sum(rewards.run_birthdays(shop) for shop in _program_shops())


@job
def roll_tiers() -> int:
    """A new month: the oldest month left the window, tiers may drop."""
    return sum(admin.reevaluate_shop(shop.id, tiered_only=True) for shop in _program_shops())
