"""The customer's loyalty through the app proxy (``/apps/nearstock/loyalty`` on the storefront).

Every route is signed by Shopify (:func:`require_proxy`) and acts only for the signed request's
``logged_in_customer_id``: no parameter can name another customer. Logged out: 401. Writes take
``application/json`` only, which a cross-site form cannot send (the browser would need a CORS
preflight we never grant), so another site cannot redeem on a logged-in shopper's behalf.
Answers are private and never cached.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from integration.errors import APIError
from integration.loyalty import admin, ledger, rewards
from integration.views.app_proxy import require_proxy
from integration.views.request_body import read_json_object

bp = Blueprint("proxy_loyalty", __name__, url_prefix="/proxy")

MAX_BODY = 4096


@bp.errorhandler(ledger.LoyaltyError)
def _loyalty_error(exc: ledger.LoyaltyError):
    response = jsonify(error={"code": exc.code, "message": exc.message})
    response.status_code = exc.status
    return _private(response)


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _customer() -> str:
    if not g.customer_id:
        raise APIError(401, "login_required", "log in to your account to see your points")
    return g.customer_id


@bp.get("/loyalty")
@require_proxy
def summary():
    view = admin.customer_view(g.shop.id, _customer(), currency=g.shop.currency)
    return _private(jsonify(view))


@bp.post("/loyalty/join")
@require_proxy
def join():
    customer = _customer()
    data = read_json_object(MAX_BODY, empty_ok=True)
    birthday = data.get("birthday")
    if birthday is not None and not isinstance(birthday, str):
        raise APIError(400, "invalid_birthday", "birthday must be MM-DD")
    admin.join(g.shop.id, customer, birthday=birthday)
    return _private(jsonify(admin.customer_view(g.shop.id, customer, currency=g.shop.currency)))


@bp.post("/loyalty/redeem")
@require_proxy
def redeem():
    customer = _customer()
    data = read_json_object(MAX_BODY, empty_ok=True)
    points = data.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise APIError(400, "invalid_points", "points must be a positive whole number")
    key = data.get("request_key")
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= 64):
        raise APIError(400, "invalid_request_key", "request_key must be 8 to 64 characters")
    reward = rewards.redeem(g.shop, customer, points, request_key=key)
    response = jsonify(reward=admin.reward_json(reward), balance=ledger.balance(g.shop.id, customer))
    response.status_code = 202  # the code is made at Shopify by a job; GET /loyalty shows it when issued
    return _private(response)
