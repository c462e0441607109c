"""The embedded admin's notices API (``/api/notifications``, App Bridge session token).

* ``GET /templates``: every kind and variant with its English subject; ``GET /preview/<kind>``:
  one rendered with sample data and the shop's branding, or with unsaved branding from the query
  (``?primary_color=%23ff0000&logo_url=…``, checked like a save) so the page can show a change live.
* ``GET|PUT /settings``; ``PUT /kinds/<kind>`` switches one kind on or off.
* ``GET ""``: the log (``?status=&kind=&q=``, server-paginated; addresses masked); ``POST /<id>/retry``
  queues a failed notice again, once.
* ``GET /unsubscribes`` (``?email=`` exact) and ``POST /unsubscribes/<id>/resubscribe``.

Every row is looked up within ``g.shop``: another shop's id is 404.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from integration.errors import APIError
from integration.extensions import db
from integration.notices import admin as notices_admin
from integration.notices import compose, settings_input
from integration.notices import outbox as notifications
from integration.notices import render as rendering
from integration.views.notifications import check_kind, preview_response, templates_json
from integration.views.pagination import page_args, paginate
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("notifications_api", __name__, url_prefix="/api/notifications")

MAX_SETTINGS_BODY = 64 * 1024
MAX_SMALL_BODY = 4 * 1024


def _checked(check, values: dict) -> dict:
    """``values`` through a :mod:`settings_input` check; a refusal is a 422 naming the field."""
    try:
        return check(values)
    except settings_input.InvalidSetting as exc:
        raise APIError(422, exc.code, exc.message, field=exc.field) from None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise APIError(400, f"invalid_{name}", f"{name} must be one of: {', '.join(allowed)}")
    return value


def _search(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if len(value) > notices_admin.MAX_SEARCH:
        raise APIError(400, f"invalid_{name}", f"{name} must be at most {notices_admin.MAX_SEARCH} characters")
    return value or None


def _page(query, to_json) -> dict:
    page, limit = page_args()
    return paginate(query, page, limit, to_json=to_json)


# -- templates and previews -----------------------------------------------------------------------------


@bp.get("/templates")
@require_session
def templates():
    return jsonify(templates=templates_json(), locales=list(rendering.SUPPORTED_LOCALES))


@bp.get("/preview/<kind>")
@require_session
def shop_preview(kind: str):
    check_kind(kind)
    overrides = _checked(settings_input.branding, request.args.to_dict())
    return preview_response(kind, compose.branding_for(g.shop, overrides))


# -- settings -------------------------------------------------------------------------------------------


def _settings_json() -> dict:
    s = notifications.settings_for(g.shop.id)
    return {**{name: getattr(s, name) for name in notifications.SETTINGS_FIELDS},
            "kinds": [{"kind": kind, "category": notifications.CATEGORY[kind],
                       "enabled": kind not in (s.disabled_kinds or ())} for kind in notifications.KINDS]}


@bp.get("/settings")
@require_session
def get_settings():
    return jsonify(_settings_json())


@bp.put("/settings")
@require_session
def put_settings():
    values = _checked(settings_input.settings, read_json_object(MAX_SETTINGS_BODY))
    notifications.update_settings(g.shop.id, values)
    db.session.commit()
    return jsonify(_settings_json())


@bp.put("/kinds/<kind>")
@require_session
def put_kind(kind: str):
    check_kind(kind)
    enabled = read_json_object(MAX_SMALL_BODY).get("enabled")
    if not isinstance(enabled, bool):
        raise APIError(422, "invalid_enabled", "enabled must be true or false", field="enabled")
    disabled = notices_admin.set_kind_enabled(g.shop.id, kind, enabled)
    return jsonify(kind=kind, enabled=kind not in disabled, disabled_kinds=disabled)


# -- the log --------------------------------------------------------------------------------------------


@bp.get("")
@require_session
def notice_log():
    query = notices_admin.log_query(g.shop.id, status=_choice("status", notices_admin.STATUSES),
                                    kind=_choice("kind", notifications.KINDS), search=_search("q"))
    return jsonify(_page(query, notices_admin.notice_json))


@bp.post("/<id:notification_id>/retry")
@require_session
def retry(notification_id: int):
    outcome, n = notices_admin.retry(g.shop.id, notification_id)
    if outcome is notices_admin.RetryOutcome.NOT_FOUND:
        raise APIError(404, "not_found", "no such notice")
    if outcome is notices_admin.RetryOutcome.NOT_FAILED:
        raise APIError(409, "not_failed",
                       f"this notice is {n.status}, not failed: it was not sent again")
    return jsonify(notices_admin.notice_json(n)), 202


# -- unsubscribes ---------------------------------------------------------------------------------------


@bp.get("/unsubscribes")
@require_session
def unsubscribes():
    query = notices_admin.unsubscribes_query(g.shop.id, email=_search("email"))
    return jsonify(_page(query, notices_admin.unsubscribe_json))


@bp.post("/unsubscribes/<id:preference_id>/resubscribe")
@require_session
def resubscribe(preference_id: int):
    categories = read_json_object(MAX_SMALL_BODY, empty_ok=True).get("categories")
    allowed = (*notifications.CATEGORIES, "all")
    if categories is not None and (not isinstance(categories, list) or not categories
                                   or not all(isinstance(c, str) and c in allowed for c in categories)):
        raise APIError(422, "invalid_categories", f"categories must list some of: {', '.join(allowed)}",
                       field="categories")
    row = notices_admin.resubscribe(g.shop.id, preference_id, categories,
                                    actor=str(g.get("shopify_user") or "") or None)
    if row is None:
        raise APIError(404, "not_found", "no such unsubscribe")
    return jsonify(notices_admin.unsubscribe_json(row))
