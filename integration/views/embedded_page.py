"""The pages the Shopify admin frames (/admin, /admin/warehouses): served without a session, the
same way for each. Everything they show comes from /api/*, which App Bridge calls with a session
token.

* App Bridge: ``<meta name="shopify-api-key">`` and the script from :attr:`Config.app_bridge_url`,
  Shopify's CDN in production, the local admin's stand-in when developing against the emulator.
  https://shopify.dev/docs/api/app-home
* Only the shop's admin may frame them (Shopify's embedded-app requirement,
  https://shopify.dev/docs/apps/build/security/set-up-iframe-protection), plus the local admin
  outside production; no plugins, no ``<base>`` rewriting, forms post only to us.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request

from integration.shops.verification import is_valid_shop_domain


def frame_ancestors(shop: str, config) -> str:
    if not shop:
        return "'none'"
    local = f" {config.local_admin_origin}" if config.local_admin_origin else ""
    return f"https://{shop} https://admin.shopify.com{local}"


def render_embedded(template: str, **context) -> Response:
    """``template`` with ``api_key``, ``app_bridge_url`` and ``shop`` (valid, or empty) set."""
    shop = request.args.get("shop", "")
    shop = shop if is_valid_shop_domain(shop) else ""
    config = current_app.config["NEARSTOCK"]
    response = current_app.make_response(render_template(
        template, api_key=config.shopify_api_key, app_bridge_url=config.app_bridge_url, shop=shop, **context))
    response.headers["Content-Security-Policy"] = (
        f"frame-ancestors {frame_ancestors(shop, config)}; base-uri 'none'; object-src 'none'; form-action 'self';"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response
