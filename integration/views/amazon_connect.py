"""Amazon seller accounts in the embedded admin: connect (consent redirect), callback, list, disconnect.

The admin is an iframe, so ``POST /api/amazon/connect`` (session token, shop from the token only)
answers the consent URL as JSON and the page opens it at the top level; Seller Central then sends
the seller's browser to ``GET /amazon/callback``, which carries no session token: the signed,
single-use state names the shop (:mod:`integration.amazon.connect`). Account ids in paths
are looked up within the session's shop, so another shop's id answers 404. Tokens never leave the
server.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, request

from integration.amazon import connect
from integration.errors import error_response
from integration.models.amazon import AmazonAccount
from integration.views.auth import embedded_admin_url
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("amazon_connect", __name__)

MAX_BODY = 4096


@bp.errorhandler(connect.ConnectError)
def _connect_error(exc: connect.ConnectError):
    # JSON under /api/, the error page for the browser landing on the callback.
    return error_response(exc.status, exc.code, exc.message)


def _config():
    return current_app.config["NEARSTOCK"]


def account_json(account: AmazonAccount) -> dict:
    """The only shape of an account that leaves the server: no client secret, no refresh token."""
    return {
        "id": account.id,
        "name": account.name,
        "seller_id": account.seller_id,
        "region": account.region,
        "marketplaces": list(account.marketplaces or []),
        "active": account.active,
        "created_at": account.created_at.isoformat() if account.created_at else None,
    }


@bp.get("/api/amazon/accounts")
@require_session
def accounts():
    return jsonify(accounts=[account_json(a) for a in connect.list_accounts(g.shop.id)],
                   connect_enabled=_config().amazon_enabled)


@bp.post("/api/amazon/connect")
@require_session
def start():
    """Body ``{"marketplaces": ["A1PA6795UKMFR9", …], "name"?: "EU"}``: answers the consent URL."""
    url = connect.start(_config(), g.shop.id, read_json_object(MAX_BODY))
    return jsonify(url=url, expires_in=connect.STATE_TTL)


@bp.delete("/api/amazon/accounts/<id:account_id>")
@require_session
def disconnect(account_id: int):
    connect.disconnect(g.shop.id, account_id)
    return "", 204


@bp.get(connect.CALLBACK_PATH)
def callback():
    """Seller Central's redirect: ``state``, ``selling_partner_id``, ``spapi_oauth_code`` (or ``error``)."""
    raw_state = request.args.get("state", "")
    pending = connect.claim_state(raw_state)
    shop, _account, _created = connect.connect(_config(), pending, request.args, raw_state)
    response = redirect(embedded_admin_url(shop.domain))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the code must not leak to the next page
    return response
