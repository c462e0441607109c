"""The embedded admin's after-sales figures (issue #23): what the merchant learns from returns,
ratings and comments. Session-token protected; every figure is the token's shop's only. Each
reader takes a bounded period; a period out of shape or too long is 422 naming the parameter.

* ``GET /api/aftersales/reasons?from=&to=&sku=&market=`` (days, at most 92; default the last 4
  weeks): the top 3 return reasons per week x SKU x market.
* ``GET /api/aftersales/themes?from=&to=`` (months ``YYYY-MM``, at most 12; default the last 3):
  each month's comment themes per language, praise and complaints apart.
* ``GET /api/aftersales/warehouses?from=&to=`` (days, at most 366; default the last 12 weeks):
  per warehouse and week, the average rating per dimension, NPS and the promise-kept rate.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import structlog
from flask import Blueprint, g, jsonify, request

from integration.errors import APIError
from integration.feedback import comment_themes, scores, trends
from integration.models.base import utcnow
from integration.returns import analytics
from integration.views.session_auth import require_session

bp = Blueprint("aftersales_api", __name__, url_prefix="/api/aftersales")
log = structlog.get_logger(__name__)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_SKU = 255
EARLIEST, LATEST = "2000", "2999"  # years: a date's day after stays a date
REASONS_DAYS, TRENDS_DAYS, THEMES_MONTHS = 28, 84, 3  # the default periods


def _invalid(field: str, message: str) -> APIError:
    log.info("aftersales.bad_parameter", field=field, path=request.path)
    return APIError(422, "invalid", message, field=field)


def _parse(name: str, pattern: re.Pattern, suffix: str = "") -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not pattern.fullmatch(raw) or not EARLIEST <= raw[:4] <= LATEST:
            raise ValueError
        return date.fromisoformat(raw + suffix)
    except ValueError:
        shape = "YYYY-MM-DD" if not suffix else "YYYY-MM"
        raise _invalid(name, f"{name} must be a date {shape} from {EARLIEST} to {LATEST}") from None


def _period(max_days: int, default_days: int) -> tuple[date, date]:
    until = _parse("to", _DAY) or utcnow().date()
    since = _parse("from", _DAY) or until - timedelta(days=default_days - 1)
    try:
        scores.check_span(since, until, max_days)
    except ValueError:
        raise _invalid("from", f"from must be on or before to, at most {max_days} days apart") from None
    return since, until


@bp.get("/reasons")
@require_session
def reasons():
    since, until = _period(analytics.MAX_DAYS, REASONS_DAYS)
    sku = request.args.get("sku") or None
    if sku is not None and (len(sku) > MAX_SKU or not sku.isprintable()):
        raise _invalid("sku", f"sku must be printable text of at most {MAX_SKU} characters")
    market = (request.args.get("market") or "").upper() or None
    if market is not None and not _COUNTRY.fullmatch(market):
        raise _invalid("market", "market must be a two-letter country code")
    return jsonify(analytics.top_reasons(g.shop.id, since, until, sku=sku, market=market))


@bp.get("/themes")
@require_session
def themes():
    last = _parse("to", _MONTH, "-01") or comment_themes.month_start(utcnow().date())
    first = _parse("from", _MONTH, "-01")
    if first is None:
        first = last
        for _ in range(THEMES_MONTHS - 1):
            first = comment_themes.month_start(first - timedelta(days=1))
    try:
        return jsonify(comment_themes.monthly_themes(g.shop.id, first, last))
    except ValueError:
        raise _invalid("from", f"from must be on or before to, at most {comment_themes.MAX_MONTHS} months "
                       "apart") from None


@bp.get("/warehouses")
@require_session
def warehouses():
    since, until = _period(trends.MAX_DAYS, TRENDS_DAYS)
    return jsonify(trends.warehouse_trends(g.shop.id, since, until))
