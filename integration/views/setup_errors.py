"""The answer to a refused setup input (:class:`~integration.warehouses.setup_validation.SetupError`),
the same from every admin API that validates with it: ``{"error": {"code", "message", "field"}}``
with its status, and ``Retry-After`` when a provider asked to wait. The transaction is rolled back,
so a refusal half-way through a change keeps nothing of it."""

from __future__ import annotations

from flask import jsonify

from integration.extensions import db
from integration.warehouses.setup_validation import SetupError


def setup_error_response(exc: SetupError):
    db.session.rollback()
    error = {"code": exc.code, "message": exc.message}
    if exc.field:
        error["field"] = exc.field
    response = jsonify(error=error)
    response.status_code = exc.status
    if exc.retry_after:
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response
