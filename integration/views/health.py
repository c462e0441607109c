"""``GET /healthz``: 200 with a JSON report, 503 when the database or Redis is unreachable."""

from flask import Blueprint, jsonify

from integration import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    healthy, report = health.check()
    return jsonify(report), (200 if healthy else 503)
