"""Maps (source, topic) of an inbound event to the function that handles it.

Handlers register with :func:`handles` in the modules listed in ``HANDLER_MODULES``; they receive
the stored :class:`~integration.models.WebhookEvent` and its parsed JSON payload, run inside the
job's database session, and must be idempotent: the same event may be processed twice.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from integration.models import WebhookEvent

Handler = Callable[[WebhookEvent, Any], None]

HANDLER_MODULES: list[str] = [
    "integration.inbox.shopify_handlers",
    "integration.inbox.warehouse_handlers",
    "integration.loyalty.refunds",
]
_handlers: dict[tuple[str, str], Handler] = {}
_loaded = False


def handles(source: str, *topics: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for topic in topics:
            key = (source, topic)
            if key in _handlers and _handlers[key] is not func:
                raise ValueError(f"two handlers for {source} {topic}")
            _handlers[key] = func
        return func

    return register


def handler_for(source: str, topic: str) -> Handler | None:
    load_handlers()
    return _handlers.get((source, topic))


def load_handlers() -> None:
    global _loaded
    if not _loaded:
        for module in HANDLER_MODULES:
            importlib.import_module(module)
        _loaded = True


def unregister(source: str, topic: str) -> None:
    """Remove a registration (tests register throwaway handlers)."""
    _handlers.pop((source, topic), None)
