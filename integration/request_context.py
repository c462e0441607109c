"""A request id on every request: taken from ``X-Request-Id`` when sane, else generated, bound to
every log line and echoed back in the response.

The id and the matched route are also left in the WSGI environ for the web server's access log
(integration/gunicorn_config.py), which runs after the app has answered.
"""

from __future__ import annotations

import re
import uuid

import structlog
from flask import Flask, g, request

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

REQUEST_ID_KEY = "nearstock.request_id"
# The route's pattern (/notifications/unsubscribe/<token>), never the path itself: a path can hold
# a signed token, and the unsubscribe link's carries the customer's address.
ROUTE_KEY = "nearstock.route"


def request_id_from(given: str) -> str:
    """The caller's request id when it is sane, else a new one."""
    return given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    @app.before_request
    def _bind_request_id():
        g.request_id = request_id_from(request.headers.get("X-Request-Id", ""))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)
        request.environ[REQUEST_ID_KEY] = g.request_id
        request.environ[ROUTE_KEY] = request.url_rule.rule if request.url_rule else None

    @app.teardown_request
    def _forget_request_context(_exc):
        # The request's log context (its id, the shop) ends with it: whatever the thread logs
        # next (gunicorn's access line, another request's first lines) is not under it.
        structlog.contextvars.clear_contextvars()

    @app.after_request
    def _echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response
