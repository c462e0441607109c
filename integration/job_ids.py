"""Job ids of the order flow's jobs, in one place.

The flow enqueues each under a deterministic id (``unique=True``: a second enqueue would be a
bug), and the warehouse sweeper (``jobs.warehousing.sweep_warehouse_work``) looks the same ids up
to tell a lost item from one whose job is merely waiting; both must build them alike. Likewise
Amazon's shipment confirmation (the fulfillment job and the confirmation sweep).
"""

from __future__ import annotations


def push_outbound(outbound_id: int) -> str:
    return f"push-outbound-{outbound_id}"


def fulfill(shipment_id: int) -> str:
    return f"fulfill-{shipment_id}"


def fulfillment_event(row_id: int) -> str:
    return f"fulfillment-event-{row_id}"


def fulfillment_event_after_fulfillment(row_id: int) -> str:
    """The event's second chance: enqueued once the fulfillment it was waiting for exists."""
    return f"fulfillment-event-{row_id}-after"


def amazon_confirm(shipment_id: int) -> str:
    return f"amazon-confirm-{shipment_id}"
