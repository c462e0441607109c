"""Jobs of the inbound-event path."""

from __future__ import annotations

from integration.inbox import events
from jobs.runtime import job


@job
def process_event(event_id: int) -> str:
    return events.process_event(event_id)


@job
def sweep_stale_events() -> int:
    return events.sweep_stale_events()


@job
def process_events(event_ids: list[int]) -> dict[str, int]:
    return events.process_events(event_ids)
