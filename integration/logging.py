"""Structured logs (structlog): JSON lines in production, readable console output otherwise.

Every line carries the context bound for the current request or job (request id, shop, job id)
through ``structlog.contextvars``. Values under keys that look like secrets are masked, so a token
passed to a log call by mistake never reaches the log.
"""

from __future__ import annotations

import logging
import sys

import structlog

SECRET_KEYS = ("token", "secret", "password", "authorization", "api_key", "hmac", "signature")


def _mask_secrets(_logger, _name, event_dict):
    for key in list(event_dict):
        if any(s in key.lower() for s in SECRET_KEYS):
            event_dict[key] = "***"
    return event_dict


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_secrets,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        # filter_by_level first: an event below the logger's level is dropped before any work
        # (the webhook hot path logs at INFO on every request; at WARNING that must cost nothing).
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Route the stdlib loggers (rq, gunicorn, sqlalchemy, werkzeug) through the same renderer.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
