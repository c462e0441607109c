"""Install: Shopify-managed (token exchange) or the authorization code grant, and its callback.

https://shopify.dev/docs/apps/build/authentication-authorization/app-installation
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
Every step is verified before anything is trusted: the query HMAC (constant time), the shop
domain, the timestamp window, the ID token the admin adds when it frames the app, and for the
code grant a single-use ``state`` nonce bound to the browser by a cookie signed with a key
derived from SECRET_KEY.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import structlog
from flask import Blueprint, current_app, redirect, render_template, request
from itsdangerous import BadSignature

from connectors.errors import ConnectorError
from connectors.untrusted_input import seconds_since
from integration.errors import APIError
from integration.extensions import redis
from integration.security import signer
from integration.shops import installation, verification
from integration.shops.shopify_authorizer import authorizer
from integration.shops.token_check import token_revoked
from integration.shops.verification import install_query_is_authentic, is_valid_shop_domain

bp = Blueprint("auth", __name__)
log = structlog.get_logger(__name__)

STATE_COOKIE = "nearstock_oauth_state"
STATE_TTL = 600
TIMESTAMP_WINDOW = 300  # seconds either side: the redirects arrive within moments


def _config():
    return current_app.config["NEARSTOCK"]


def _verified_params() -> dict[str, str]:
    """The query as a dict, or a 4xx: bad shop domain, bad HMAC, stale timestamp."""
    params = {k: v for k, v in request.args.items(multi=False)}
    shop = params.get("shop", "")
    if not is_valid_shop_domain(shop):
        log.warning("auth.bad_shop", shop=shop[:255])
        raise APIError(400, "invalid_shop", "shop must be a myshopify.com domain")
    if not install_query_is_authentic(params, _config()):
        log.warning("auth.bad_hmac", shop=shop, path=request.path)
        raise APIError(401, "invalid_hmac", "HMAC verification failed")
    age = seconds_since(params.get("timestamp"))
    if age is None:
        raise APIError(400, "invalid_timestamp", "timestamp missing")
    if abs(age) > TIMESTAMP_WINDOW:
        log.warning("auth.stale_timestamp", shop=shop, age=int(age))
        raise APIError(401, "stale_request", "request timestamp outside the allowed window")
    return params


@bp.get("/")
def index():
    if "shop" not in request.args:
        return render_template("landing.html")
    return install()


@bp.get("/auth/install")
def install():
    params = _verified_params()
    shop = params["shop"]
    installed = installation.get_installed(shop)
    home = f"/admin?{urlencode({'shop': shop, 'host': params.get('host', '')})}"
    if installed is not None and installed.access_token and params.get("embedded") == "1":
        # Already installed and opened inside the Shopify admin: show the app, once Shopify still
        # takes our token; if it refuses it, the app was installed anew: exchange the ID token.
        if params.get("id_token") and token_revoked(installed):
            install_by_token_exchange(shop, params["id_token"], anew=True)
        return redirect(home)
    if params.get("embedded") == "1" and params.get("id_token"):
        install_by_token_exchange(shop, params["id_token"])
        return redirect(home)
    nonce = secrets.token_urlsafe(24)
    redirect_uri = f"{_config().app_url}/auth/callback"
    url = authorizer().authorize_url(shop, installation.SCOPES, redirect_uri, nonce)
    response = redirect(url)
    response.set_cookie(
        STATE_COOKIE,
        signer("oauth-state").dumps({"nonce": nonce, "shop": shop}),
        max_age=STATE_TTL,
        httponly=True,
        secure=_config().app_url.startswith("https://"),
        samesite="Lax",  # sent on Shopify's top-level redirect back to us
    )
    log.info("auth.install_redirect", shop=shop)
    return response


def install_by_token_exchange(shop: str, id_token: str, *, anew: bool = False) -> None:
    """Shopify-managed installation: Shopify installed the app and opens it in the admin with an
    ID token; that token, verified, is exchanged for the offline token (no OAuth redirect); the
    install's signal starts the catalog import, as after a code grant. ``anew``: Shopify refused the
    token we had (see :mod:`integration.shops.token_check`).
    https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange"""
    if len(id_token) > 4096:  # the same bound as a session token in a header
        raise APIError(400, "invalid_id_token", "id_token is too long")
    try:
        session = verification.verify_session_token(f"Bearer {id_token}", request.url, _config())
    except verification.InvalidSessionToken as exc:
        log.warning("auth.bad_id_token", shop=shop)
        raise APIError(401, "invalid_id_token", str(exc)) from None
    if session.domain != shop:
        log.warning("auth.id_token_for_other_shop", shop=shop)
        raise APIError(401, "invalid_id_token", "the ID token was issued for another shop")
    try:
        tokens = authorizer().exchange_session_token(shop, session.token)
    except ConnectorError as exc:
        log.warning("auth.token_exchange_failed", shop=shop, error=str(exc))
        raise APIError(502, "token_exchange_failed", "Shopify did not accept the ID token") from None
    installation.store_tokens(shop, tokens, installing=True, anew=anew)  # shop_installed: the import follows
    log.info("auth.installed", shop=shop, by="token_exchange", anew=anew)


@bp.get("/auth/callback")
def callback():
    params = _verified_params()
    shop = params["shop"]
    cookie = request.cookies.get(STATE_COOKIE, "")
    try:
        state = signer("oauth-state").loads(cookie, max_age=STATE_TTL)
    except BadSignature:
        log.warning("auth.bad_state_cookie", shop=shop)
        raise APIError(403, "invalid_state", "OAuth state missing or expired; start the install again") from None
    if not secrets.compare_digest(str(state.get("nonce", "")), params.get("state", "")) or state.get("shop") != shop:
        log.warning("auth.state_mismatch", shop=shop)
        raise APIError(403, "invalid_state", "OAuth state does not match")
    # Single use: the first callback with this nonce claims it; a replay finds it taken.
    if not redis.client.set(f"nearstock:oauth-state:{state['nonce']}", "1", nx=True, ex=STATE_TTL * 2):
        log.warning("auth.state_replayed", shop=shop)
        raise APIError(403, "invalid_state", "OAuth state already used")
    code = params.get("code", "")
    if not code or len(code) > 512:
        raise APIError(400, "invalid_code", "authorization code missing")
    try:
        tokens = authorizer().exchange_code(shop, code)
    except ConnectorError as exc:
        log.warning("auth.code_exchange_failed", shop=shop, error=str(exc))
        raise APIError(502, "token_exchange_failed", "Shopify did not accept the authorization code") from None
    installation.store_tokens(shop, tokens, installing=True)  # shop_installed: the catalog import follows
    log.info("auth.installed", shop=shop)
    response = redirect(embedded_admin_url(shop))
    response.delete_cookie(STATE_COOKIE)
    return response


def embedded_admin_url(shop: str) -> str:
    config = _config()
    if config.shopify_endpoint:  # sandbox: the emulator's local admin, laid out like admin.shopify.com
        return f"{config.shopify_endpoint}/store/{shop.split('.')[0]}/apps/{config.shopify_api_key}"
    return f"https://{shop}/admin/apps/{config.shopify_api_key}"
