"""The sandbox storefront: a product page rendered like a Shopify theme, and the app proxy.

* ``GET /products/<handle>`` renders ``theme/layout/theme.liquid`` around
  ``theme/sections/main-product.liquid``, with the extension's app block
  (``extensions/stock-status/blocks/stock-status.liquid``) in the section, from the catalog's
  products and metafields. Query: ``variant``, ``country`` (the market, as Shopify's
  localization), ``locale``; ``nearstock=0`` leaves the block out (the Lighthouse baseline).
  A catalog that can (``record_view``) counts the page as one session of that product in that
  country, once per visitor session (the ``_shopify_s`` cookie, 30 minutes, as Shopify's): what
  the emulator's ShopifyQL ``FROM sessions`` reports.
* ``/apps/nearstock/<path>`` is forwarded to ``{app_url}/proxy/<path>`` the way Shopify's app
  proxy does it: the shopper's query plus ``shop``, ``logged_in_customer_id``, ``path_prefix``
  and ``timestamp``, signed with the app secret (``signature``); any of those sent by the browser
  are replaced; cookies are not forwarded; ``X-Forwarded-For`` carries the shopper's address.
  https://shopify.dev/docs/apps/build/online-store/app-proxies
* ``/ext/stock-status/assets/<name>`` serves the extension's assets (Shopify's CDN).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import requests
from babel import Locale
from flask import Flask, Response, abort, redirect, request, send_from_directory
from markupsafe import escape

from connectors.shopify.signatures import proxy_signature
from sandbox.server import serve
from sandbox.storefront.render import EXTENSION, THEME, block_schema, make_environment, setting_defaults

PROXY_PREFIX = "/apps/nearstock"
SHOPIFY_PARAMS = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
COUNTRIES = ("DE", "FR", "US", "GB", "NL", "IT", "ES", "JP", "CN")
SESSION_COOKIE, SESSION_SECONDS = "_shopify_s", 1800
HOP_HEADERS = ("Content-Type", "Cache-Control", "Retry-After")


def _price(amount: str, currency: str, locale: str) -> str:
    from babel.numbers import format_currency

    try:
        return format_currency(amount, currency, locale=Locale.parse(locale, sep="-"))
    except Exception:  # a display nicety: fall back to the raw amount
        return f"{amount} {currency}"


def create_storefront(catalog, *, app_url: str, api_secret: str, shop_domain: str, block_settings: dict | None = None,
                      default_country: str = "DE", default_locale: str = "en", customer_id: str = "") -> Flask:
    app = Flask("sandbox.storefront")
    env = make_environment()
    layout = env.get_template("layout/theme")
    section = env.get_template("sections/main-product")
    block = env.get_template("blocks/stock-status")
    settings = {**setting_defaults(block_schema("stock-status")), **(block_settings or {})}
    session = requests.Session()

    @app.get("/")
    def index():
        links = "".join(f'<li><a href="/products/{escape(h)}">{escape(h)}</a></li>' for h in catalog.handles())
        return f"<!doctype html><title>{escape(catalog.shop_name)}</title><ul>{links}</ul>"

    @app.get("/products/<handle>")
    def product_page(handle: str):
        product = catalog.product(handle)
        if product is None:
            abort(404)
        country = (request.args.get("country") or default_country).upper()
        locale = request.args.get("locale") or default_locale
        variants = [dict(v, price_label=_price(v["price"], catalog.currency, locale)) for v in product["variants"]]
        wanted = request.args.get("variant", "")
        current = next((v for v in variants if str(v["id"]) == wanted), None) or next(
            (v for v in variants if v["available"]), variants[0])
        product = dict(product, variants=variants, selected_or_first_available_variant=current)
        names = Locale.parse(locale, sep="-").territories
        context = {
            "product": product,
            "shop": {"name": catalog.shop_name, "permanent_domain": shop_domain},
            "request": {"locale": {"iso_code": locale}, "path": request.path},
            "localization": {"country": {"iso_code": country, "name": names.get(country, country)},
                             "available_countries": [{"iso_code": c, "name": names.get(c, c)} for c in COUNTRIES]},
        }
        blocks, header = [], ""
        if request.args.get("nearstock") != "0":
            block_object = {"id": "nearstock-stock-status", "type": "@app", "settings": settings,
                            "shopify_attributes": 'data-shopify-editor-block="{}"'}
            blocks.append({"rendered": block.render(**context, block=block_object)})
            # What Shopify adds to content_for_header for an app block's "javascript" schema entry.
            header = '<script src="/ext/stock-status/assets/stock-status.js" defer="defer"></script>'
        content = section.render(**context, section={"id": "main", "blocks": blocks})
        html = layout.render(**context, content_for_layout=content, content_for_header=header,
                             page_title=product["title"], page_description=f"{product['title']} | {catalog.shop_name}")
        response = Response(html, mimetype="text/html")
        record_view = getattr(catalog, "record_view", None)
        if record_view is not None and country in COUNTRIES:
            token = request.cookies.get(SESSION_COOKIE) or ""
            if len(token) != 32 or not token.isalnum():
                token = secrets.token_hex(16)
            record_view(token, product["id"], country)
            response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="Lax")
        return response

    @app.get("/ext/stock-status/assets/<path:name>")
    def extension_asset(name: str):
        return send_from_directory(Path(EXTENSION) / "assets", name, max_age=3600)

    @app.get("/theme/assets/<path:name>")
    def theme_asset(name: str):
        return send_from_directory(Path(THEME) / "assets", name, max_age=3600)

    @app.post("/cart/add")
    def cart_add():
        return redirect(request.referrer or "/", code=303)

    @app.route(f"{PROXY_PREFIX}/<path:subpath>", methods=["GET", "POST"])
    def app_proxy(subpath: str):
        params: dict[str, str | list[str]] = {}
        for key in request.args:
            if key not in SHOPIFY_PARAMS:
                values = request.args.getlist(key)
                params[key] = values if len(values) > 1 else values[0]
        params.update(shop=shop_domain, logged_in_customer_id=customer_id, path_prefix=PROXY_PREFIX,
                      timestamp=str(int(time.time())))
        params["signature"] = proxy_signature(params, api_secret)
        headers = {"X-Forwarded-For": request.remote_addr or "127.0.0.1",
                   "Accept": request.headers.get("Accept", "*/*")}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        try:
            upstream = session.request(request.method, f"{app_url.rstrip('/')}/proxy/{subpath}", params=params,
                                       data=request.get_data() if request.method == "POST" else None,
                                       headers=headers, timeout=10, allow_redirects=False)
        except requests.RequestException:  # what Shopify answers when the app is down
            return Response('{"error":"app_unavailable"}', status=502, mimetype="application/json")
        response = Response(upstream.content, status=upstream.status_code)
        for name in HOP_HEADERS:
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        return response

    return app


class Storefront:
    """The storefront served from a background thread on loopback (``url`` once started)."""

    def __init__(self, catalog, **kwargs) -> None:
        self.app = create_storefront(catalog, **kwargs)
        self._server = None
        self.url: str | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Storefront:
        self._server = serve(self.app, host, port)
        self.url = self._server.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
