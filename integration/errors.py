"""Error responses: JSON ``{"error": {"code", "message"}}`` for machine routes, HTML for pages.

No stack trace ever reaches a client; unexpected errors are logged with the request id.
"""

from __future__ import annotations

import structlog
from flask import Flask, g, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = structlog.get_logger("integration.errors")

JSON_PREFIXES = ("/api/", "/webhooks/", "/proxy/", "/healthz", "/metrics", "/auth/")


class APIError(HTTPException):
    """Raise from a view to answer with a specific status, machine code and message."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.field = field  # the form field at fault, so the admin can show the message beside it


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, field: str | None = None):
    if wants_json():
        response = jsonify(error={"code": code, "message": message, **({"field": field} if field else {})})
        response.status_code = status
        return response
    html = render_template("error.html", status=status, message=message, request_id=g.get("request_id"))
    return html, status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = getattr(exc, "error_code", None) or (exc.name or "error").lower().replace(" ", "_")
        response = make_response(error_response(exc.code or 500, code, exc.description or exc.name,
                                                getattr(exc, "field", None)))
        # Keep what the exception adds (Allow on 405, Retry-After, App Bridge's retry header).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("request.unhandled_error", path=request.path)
        generic = InternalServerError()
        return error_response(500, "internal_error", generic.description)
