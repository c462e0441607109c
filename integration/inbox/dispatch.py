"""Maps (source, topic) of an inbound event to the function that handles it.

The table itself is :data:`integration.wiring.HANDLERS`, registered here once per process by
``create_app``. Handlers receive the stored :class:`~integration.models.WebhookEvent` and its
parsed JSON payload, run inside the job's database session, and must be idempotent: the same
event may be processed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integration.models import WebhookEvent

Handler = Callable[[WebhookEvent, Any], None]

_handlers: dict[tuple[str, str], Handler] = {}


def handles(source: str, *topics: str) -> Callable[[Handler], Handler]:
    """Register ``func`` for these topics; registering the same function again is a no-op."""

    def register(func: Handler) -> Handler:
        for topic in topics:
            key = (source, topic)
            if key in _handlers and _handlers[key] is not func:
                raise ValueError(f"two handlers for {source} {topic}")
            _handlers[key] = func
        return func

    return register


def handler_for(source: str, topic: str) -> Handler | None:
    return _handlers.get((source, topic))


def unregister(source: str, topic: str) -> None:
    """Remove a registration (tests register throwaway handlers)."""
    _handlers.pop((source, topic), None)
