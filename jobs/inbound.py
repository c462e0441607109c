"""Inbound shipment jobs: announce to the warehouse, follow until received, withdraw.

All take ids and re-read state; each is safe to run twice or to be killed half-way.
"""

from __future__ import annotations

from datetime import timedelta

from integration import job_catalog
from integration.insights import inbound, inbound_tracking
from integration.job_liveness import enqueue_unless_alive
from jobs.runtime import job, retried_until_next_round


@job
def create_inbound(inbound_id: int) -> str:
    return inbound.create_at_warehouse(inbound_id)


@job
@retried_until_next_round
def poll_inbound(inbound_id: int) -> str:
    return inbound_tracking.poll_inbound(inbound_id)


@job
def cancel_inbound(inbound_id: int) -> str:
    return inbound_tracking.cancel_inbound(inbound_id)


@job
def follow_open_inbounds(older_than_minutes: int = 10) -> int:
    """Cron: ask the warehouse about every shipment it knows and not yet received, and send again
    the pending ones whose create job was lost (one job per shipment at a time)."""
    polled = inbound_tracking.open_inbound_ids()
    pending = inbound_tracking.pending_inbound_ids(timedelta(minutes=older_than_minutes))
    enqueue_unless_alive("low", job_catalog.POLL_INBOUND,
                         [(job_catalog.poll_inbound_id(i), (i,)) for i in polled], retry=job_catalog.POLL_RETRY)
    enqueue_unless_alive("sync", job_catalog.CREATE_INBOUND,
                         [(job_catalog.sweep_id(job_catalog.CREATE_INBOUND, i), (i,)) for i in pending],
                         also=lambda i: [job_catalog.create_inbound_id(i)])
    return len(polled) + len(pending)
