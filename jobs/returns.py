"""Return jobs: approve or decline at Shopify and the warehouse, follow the RMA until inspected,
settle (refund or exchange), reship a parcel the carrier lost.

All take ids and re-read state; each is safe to run twice or to be killed half-way.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from integration import job_catalog
from integration.extensions import db
from integration.job_liveness import enqueue_unless_alive
from integration.models import Return, ReturnEvent, ReturnState
from integration.models.base import utcnow
from integration.returns import approval, receipt, reships, settlement
from jobs.runtime import job, retried_until_next_round


@job
def approve_return(return_id: int) -> str:
    return approval.approve(return_id)


@job
def decline_return(return_id: int) -> str:
    return approval.decline(return_id)


@job
@retried_until_next_round
def poll_return(return_id: int) -> str:
    return receipt.poll_return(return_id)


@job
def settle_return(return_id: int) -> str:
    return settlement.settle(return_id)


@job
def reship_lost_parcel(shipment_id: int) -> str:
    return reships.reship_lost_parcel(shipment_id)


@job
def follow_returns(older_than_minutes: int = 10) -> int:
    """Cron: ask the warehouse about every RMA not yet inspected, and run again the decided or
    inspected returns whose job was lost (one job per return at a time)."""
    polled = receipt.open_return_ids()
    enqueue_unless_alive("low", job_catalog.POLL_RETURN,
                         [(job_catalog.poll_return_id(i), (i,)) for i in polled], retry=job_catalog.POLL_RETRY)
    swept = 0
    for status, func, usual in (
        (ReturnState.APPROVED, job_catalog.APPROVE_RETURN, job_catalog.approve_return_id),
        (ReturnState.DECLINED, job_catalog.DECLINE_RETURN, job_catalog.decline_return_id),
        (ReturnState.INSPECTED, job_catalog.SETTLE_RETURN, job_catalog.settle_return_id),
    ):
        ids = _stale(status, timedelta(minutes=older_than_minutes))
        swept += enqueue_unless_alive("sync", func, [(job_catalog.sweep_id(func, i), (i,)) for i in ids],
                                      also=lambda i, usual=usual: [usual(i)])
    return len(polled) + swept


def _stale(status: str, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Returns left in ``status`` (a declined one until Shopify has declined it) for a while."""
    query = select(Return.id).where(Return.status == status, Return.updated_at < utcnow() - older_than)
    if status == ReturnState.DECLINED:
        done = select(ReturnEvent.id).where(ReturnEvent.return_id == Return.id, ReturnEvent.kind == "declined")
        query = query.where(~done.exists())
    return list(db.session.execute(query.order_by(Return.id).limit(limit)).scalars())
