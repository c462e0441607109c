"""The pages the Shopify admin frames (every ``/admin`` page): served without a session, the same
way for each. Everything they show comes from /api/*, which App Bridge calls with a session token.

* App Bridge and Polaris: ``<meta name="shopify-api-key">`` and the scripts from
  :attr:`Config.app_bridge_url` and :attr:`Config.polaris_url`, Shopify's CDN in production, the
  local admin's stand-ins when developing against the emulator. https://shopify.dev/docs/api/app-home
* The merchant's language from Shopify's ``locale`` launch parameter (:mod:`.admin_i18n`).
* Only the shop's admin may frame them (Shopify's embedded-app requirement,
  https://shopify.dev/docs/apps/build/security/set-up-iframe-protection), plus the local admin
  outside production; no plugins, no ``<base>`` rewriting, forms post only to us.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Response, current_app, render_template, request, url_for

from integration.shops.verification import is_valid_shop_domain
from integration.views.admin_i18n import admin_locale, gettext_for


def frame_ancestors(shop: str, config) -> str:
    if not shop:
        return "'none'"
    local = f" {config.local_admin_origin}" if config.local_admin_origin else ""
    return f"https://{shop} https://admin.shopify.com{local}"


@functools.cache
def _fingerprint(path: str) -> str:
    """A short hash of a static file: its URL changes with its content, so browsers may keep it."""
    return hashlib.sha256(Path(current_app.static_folder, path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    return url_for("static", filename=path, v=_fingerprint(path))


def render_embedded(template: str, **context) -> Response:
    """``template`` with ``api_key``, the scripts' URLs, ``shop`` (valid, or empty), ``locale``,
    ``_`` (gettext in that locale) and ``static`` (fingerprinted static URLs) set."""
    shop = request.args.get("shop", "")
    shop = shop if is_valid_shop_domain(shop) else ""
    locale = admin_locale(request.args.get("locale"))
    config = current_app.config["NEARSTOCK"]
    response = current_app.make_response(render_template(
        template, api_key=config.shopify_api_key, app_bridge_url=config.app_bridge_url,
        polaris_url=config.polaris_url, shop=shop, locale=locale, _=gettext_for(locale), static=static_url,
        **context))
    response.headers["Content-Security-Policy"] = (
        f"frame-ancestors {frame_ancestors(shop, config)}; base-uri 'none'; object-src 'none'; form-action 'self';"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response
