"""``GET /metrics``: the Prometheus scrape (see :mod:`integration.metrics`).

With ``METRICS_TOKEN`` set the scraper must send ``Authorization: Bearer <token>``. In production
without a token the endpoint does not exist (404): tenant names, vendor error rates and backlogs
are not for the public, and a forgotten variable must never open them. Outside production without
a token it is open, for ``make run`` and local Prometheus.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import NotFound, Unauthorized

from integration import metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    config = current_app.config["NEARSTOCK"]
    if config.metrics_token:
        check_bearer(config.metrics_token)
    elif config.is_production:
        raise NotFound()
    return Response(generate_latest(metrics.scrape_registry(config)), mimetype=CONTENT_TYPE_LATEST)


def check_bearer(token: str) -> None:
    """Raise 401 unless the request carries the token; compared in constant time, so the answer's
    timing tells nothing about how much of a guess was right."""
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), token.encode()):
        raise Unauthorized("a valid bearer token is required", www_authenticate=WWWAuthenticate("bearer"))
