"""The customer's loyalty for the customer account UI extension (``extensions/loyalty-account``).

The extension runs in Shopify's customer accounts, on another origin, and sends the session token
Shopify gave it (``shopify.sessionToken.get()``) as ``Authorization: Bearer``. The token is an
HS256 JWT signed with our app secret (:func:`verify_customer_account_token`): the shop is its
``dest``, the customer its ``sub``, and nothing else: no parameter can name another customer or
shop. CORS is open to any origin because the bearer token, never a cookie, is the credential.
Answers are private and never cached.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from integration.errors import APIError
from integration.loyalty import admin
from integration.shops import installation, verification

bp = Blueprint("customer_account", __name__, url_prefix="/api/customer-account")

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Max-Age": "7200",
}


@bp.after_request
def _headers(response: Response) -> Response:
    # Error answers too: a browser hides a CORS-less 401 from the extension as a network error.
    response.headers.update(_CORS)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Authorization"
    return response


@bp.route("/loyalty", methods=["OPTIONS"])
def preflight():
    return "", 204


@bp.get("/loyalty")
def loyalty():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or len(header) > 4096:
        raise APIError(401, "invalid_session", "missing bearer session token")
    try:
        token = verification.verify_customer_account_token(header, request.url, current_app.config["NEARSTOCK"])
    except verification.InvalidSessionToken as exc:
        raise APIError(401, "invalid_session", str(exc)) from None
    shop = installation.get_installed(token.domain)
    if shop is None:
        raise APIError(403, "unknown_shop", "the app is not installed on this shop")
    return jsonify(admin.customer_view(shop.id, token.customer_id, currency=shop.currency, history=10))
