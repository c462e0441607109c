"""Jobs of the inbound-event path."""

from __future__ import annotations

from integration.services import inbox
from jobs.runtime import job


@job
def process_event(event_id: int) -> str:
    return inbox.process_event(event_id)


@job
def sweep_stale_events() -> int:
    return inbox.sweep_stale_events()


@job
def process_events(event_ids: list[int]) -> dict[str, int]:
    return inbox.process_events(event_ids)
