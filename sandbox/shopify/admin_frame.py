"""The local Shopify admin: the store's admin pages, with the app loaded in an iframe the way
Shopify's admin loads an embedded app.

    GET  /store/<handle>                             the store's home (opens the app when there is one)
    GET  /store/<handle>/apps/<api key>[/<path>]     the app in its frame (or the install screen)
    POST /store/<handle>/apps/<api key>/install      the merchant approves the install
    POST /store/<handle>/id-token                    a fresh session token for the framed app
    GET  /store/<handle>/orders | /products          the store's orders (test orders, cancel,
                                                     refund; ?sku=&quantity=&country=&locale=&email=
                                                     fill the test-order form) and products (stock
                                                     per location)
    GET  /shopifycloud/app-bridge.js                 the App Bridge stand-in (the CDN's path)
    GET  /shopifycloud/polaris.js                    the strict Polaris web components stand-in

Like admin.shopify.com/store/<handle>/apps/<app>/<path>, the frame loads the app's URL plus the
path with ``embedded=1``, ``host`` (base64 of ``admin.shopify.com/store/<handle>``), ``shop``,
``locale``, ``session``, ``timestamp``, a fresh ``id_token`` and the ``hmac`` of all of them
(https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens). Installation
is Shopify-managed: the merchant approves it here, then the app's first load exchanges the
``id_token`` for an offline token (token exchange), as on a real store.

The framed app talks to this page by ``postMessage`` through the stand-in
(``static/app-bridge.js``): session tokens for ``shopify.idToken()`` and the ``fetch`` it
authenticates, toasts, the ``<s-app-nav>`` items, the ``<ui-title-bar>``, the contextual save bar,
the loading bar, the address bar and top-level navigation. The page (``static/admin.js``) answers
only its own frame, and only from the app's origin. ``/shopifycloud/polaris.js`` is the strict
Polaris stand-in (``static/polaris*.js``, checked against ``static/polaris-elements.json``).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Flask, Response, redirect, render_template, request, send_from_directory

from . import admin_actions
from .admin_actions import Refused, order_summary, shop_for
from .oauth import query_hmac
from .order_seeding import COUNTRY_NAMES
from .payloads import CANCEL_REASONS

STATIC = "static"
# Launch parameters the admin adds; a path's own query may not set them.
LAUNCH_PARAMS = frozenset({"embedded", "hmac", "host", "id_token", "locale", "session", "shop", "timestamp"})
PATH_RE = re.compile(r"^[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*/?$")
MAX_PATH = 512
MAX_QUERY_PARAMS = 20
MAX_QUERY = 2048
# The languages of the test-order form: the ones the app has notification translations for.
ORDER_LOCALES = (("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español"),
                 ("it", "Italiano"), ("nl", "Nederlands"), ("ja", "日本語"), ("zh-CN", "中文 (简体)"))


def handle_of(domain: str) -> str:
    return domain.split(".", 1)[0]


def host_param(domain: str) -> str:
    """What the admin passes as ``host``: base64 of ``admin.shopify.com/store/<handle>``."""
    return base64.b64encode(f"admin.shopify.com/store/{handle_of(domain)}".encode()).decode().rstrip("=")


def admin_url(emulator, domain: str) -> str:
    """The store's local admin (like admin.shopify.com/store/<handle>): it opens the app, if any."""
    return f"{emulator.url}/store/{handle_of(domain)}"


class AdminFrame:
    """The admin pages of one emulator; ``installed`` holds the shops that approved the app."""

    app_name = "Nearstock"  # the app this sandbox hosts (shopify.app.toml's name), as the admin lists it

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.installed: set[str] = set()
        # The staff member's admin language per store: Shopify passes it to the app as ``locale``.
        self.languages: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- installation and launch -----------------------------------------------------------

    def is_installed(self, domain: str) -> bool:
        """Approved here, or installed through the OAuth grant (it holds a token)."""
        with self._lock:
            if domain in self.installed:
                return True
        with self.emulator.lock:
            return any(grant.shop == domain for grant in self.emulator.oauth.tokens.values())

    def install(self, domain: str) -> None:
        with self._lock:
            self.installed.add(domain)
        # Approved is installed, as at Shopify: the app's webhooks flow from now on, before its
        # first load exchanges a session token for an access token.
        with self.emulator.lock:
            self.emulator.oauth.installed.add(domain)

    def id_token(self, domain: str) -> str:
        return self.emulator.issue_session_token(domain)

    def launch_url(self, domain: str, path: str, query: dict[str, str]) -> str:
        """The app's URL for ``path`` as the admin's iframe loads it: signed launch parameters."""
        token = self.id_token(domain)
        params = {k: v for k, v in query.items() if k not in LAUNCH_PARAMS}
        with self._lock:
            locale = self.languages.get(domain, "en")
        params.update({"embedded": "1", "host": host_param(domain), "id_token": token, "locale": locale,
                       "session": _session_id(token), "shop": domain, "timestamp": str(int(time.time()))})
        params["hmac"] = query_hmac(params, self.emulator.api_secret)
        return f"{self.emulator.app_url}/{path}?{urlencode(params)}"

    # -- what the pages show ---------------------------------------------------------------

    def catalog(self, domain: str) -> dict:
        emulator = self.emulator
        with emulator.lock:
            s = emulator.shop(domain)
            locations = [{"id": loc, "name": s.nodes[loc]["name"], "active": s.nodes[loc]["isActive"],
                          "country": s.nodes[loc]["address"]["countryCode"]} for loc in s.locations]
            variants = []
            for variant_id in s.variants:
                variant = s.nodes[variant_id]
                levels = s.nodes[variant["_item"]]["_levels"]
                variants.append({
                    "sku": variant["sku"], "title": variant["title"], "price": variant["price"],
                    "product": s.nodes[variant["_product"]]["title"],
                    "stock": {loc["id"]: levels[loc["id"]]["_q"] if loc["id"] in levels else None
                              for loc in locations}})
            return {"name": s.record["name"], "currency": s.record["currencyCode"],
                    "locations": locations, "variants": variants}

    def orders(self, domain: str) -> list[dict]:
        with self.emulator.lock:
            order_ids = list(self.emulator.shop(domain).orders)
        summaries = [order_summary(self.emulator, domain, order_id) for order_id in reversed(order_ids)]
        with self.emulator.lock:
            s = self.emulator.shop(domain)
            for summary in summaries:
                order = s.nodes[summary["id"]]
                summary["total"] = str(sum((Decimal(s.nodes[i]["_price"]) * s.nodes[i]["currentQuantity"]
                                            for i in order["_line_items"]), Decimal(0)))
                summary["refundable"] = order["_financial_status"] in ("paid", "partially_paid", "partially_refunded")
        return summaries


def order_prefill(args, catalog: dict) -> dict:
    """The test-order form's values from the page's query (``sku``, ``quantity``, ``country``,
    ``locale``, ``email``), so a link can open it filled in; a value that is not one the form
    offers is ignored (the form's default stays)."""
    out = {"sku": None, "quantity": 1, "country": "DE", "locale": "de", "email": "kunde@example.com"}
    if args.get("sku") in {v["sku"] for v in catalog["variants"]}:
        out["sku"] = args["sku"]
    quantity = args.get("quantity", "")
    if quantity.isdigit() and 1 <= int(quantity) <= admin_actions.MAX_UNITS:
        out["quantity"] = int(quantity)
    if args.get("country") in COUNTRY_NAMES:
        out["country"] = args["country"]
    if args.get("locale") in dict(ORDER_LOCALES):
        out["locale"] = args["locale"]
    email = args.get("email", "")
    if len(email) <= 254 and admin_actions.EMAIL_RE.match(email):
        out["email"] = email
    return out


def _session_id(token: str) -> str:
    """The admin's ``session`` parameter: the session token's ``sid`` claim (read unverified:
    we just signed it)."""
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def _page_config(frame: AdminFrame, domain: str, **extra) -> dict:
    emulator = frame.emulator
    app_origin = "{0.scheme}://{0.netloc}".format(urlsplit(emulator.app_url)) if emulator.app_url else None
    handle = handle_of(domain)
    return {"shop": domain, "handle": handle, "apiKey": emulator.api_key, "appOrigin": app_origin,
            "storeBase": f"/store/{handle}", "appBase": f"/store/{handle}/apps/{emulator.api_key}", **extra}


def _secured(response: Response, frame_src: str | None = None) -> Response:
    """The admin's own pages run only their own scripts and frame only the app."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"frame-src {frame_src or 'none'}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _refused(exc: Refused):
    return _secured(Response(render_template("admin/refused.html", message=exc.message), status=exc.status))


def register(app: Flask, emulator) -> AdminFrame:
    """Adds the admin pages and the store's actions to the emulator's Flask app."""
    frame = AdminFrame(emulator)
    admin_actions.register(app, emulator)

    def page(template: str, domain: str, section: str, frame_src: str | None = None, **context) -> Response:
        config = _page_config(frame, domain, section=section)
        html = render_template(template, config=config, section=section, catalog=frame.catalog(domain),
                               app_name=frame.app_name, has_app=bool(emulator.app_url), admin_languages=ORDER_LOCALES,
                               language=frame.languages.get(domain, "en"), **context)
        return _secured(Response(html), frame_src)

    @app.get("/store/<handle>", endpoint="admin_home")
    def home(handle):
        try:
            domain = shop_for(emulator, handle)
        except Refused as exc:
            return _refused(exc)
        base = f"/store/{handle_of(domain)}"
        return redirect(f"{base}/apps/{emulator.api_key}" if emulator.app_url else f"{base}/orders", code=302)

    @app.get("/store/<handle>/apps/<api_key>", endpoint="admin_app")
    @app.get("/store/<handle>/apps/<api_key>/<path:path>", endpoint="admin_app_path")
    def app_page(handle, api_key, path=""):
        try:
            domain = shop_for(emulator, handle)
            if api_key != emulator.api_key or not emulator.app_url:
                raise Refused(404, "no such app on this store")
            if path and (len(path) > MAX_PATH or not PATH_RE.match(path) or ".." in path.split("/")):
                raise Refused(404, "no such page in the app")
            if len(request.args) > MAX_QUERY_PARAMS or len(request.query_string) > MAX_QUERY:
                raise Refused(400, "the query is too long")
        except Refused as exc:
            return _refused(exc)
        app_origin = _page_config(frame, domain)["appOrigin"]
        if not frame.is_installed(domain):
            return page("admin/install.html", domain, "app", scopes=sorted(emulator.oauth.default_scopes))
        src = frame.launch_url(domain, path, request.args.to_dict(flat=True))
        return page("admin/app.html", domain, "app", frame_src=app_origin, app_src=src)

    @app.post("/store/<handle>/apps/<api_key>/install", endpoint="admin_install_app")
    def install(handle, api_key):
        def run():
            domain = shop_for(emulator, handle)
            if api_key != emulator.api_key:
                raise Refused(404, "no such app")
            admin_actions.json_body()  # JSON only: a cross-site form cannot install the app
            frame.install(domain)
            return {"installed": True}
        return admin_actions.answer(run)

    @app.post("/store/<handle>/language", endpoint="admin_language")
    def language(handle):
        def run():
            domain = shop_for(emulator, handle)
            locale = admin_actions.json_body().get("locale")
            if locale not in dict(ORDER_LOCALES):
                raise Refused(422, f"locale must be one of {', '.join(dict(ORDER_LOCALES))}")
            with frame._lock:
                frame.languages[domain] = locale
            return {"locale": locale}
        return admin_actions.answer(run)

    @app.post("/store/<handle>/id-token", endpoint="admin_id_token")
    def id_token(handle):
        def run():
            domain = shop_for(emulator, handle)
            admin_actions.json_body()  # JSON only, so another site cannot even ask (nor read: no CORS)
            if not frame.is_installed(domain):
                raise Refused(403, "the app is not installed on this store")
            return {"id_token": frame.id_token(domain)}
        return admin_actions.answer(run)

    @app.get("/store/<handle>/orders", endpoint="admin_orders")
    def orders(handle):
        try:
            domain = shop_for(emulator, handle)
        except Refused as exc:
            return _refused(exc)
        countries = sorted(COUNTRY_NAMES.items(), key=lambda item: item[1])
        return page("admin/orders.html", domain, "orders", orders=frame.orders(domain), countries=countries,
                    locales=ORDER_LOCALES, reasons=CANCEL_REASONS, max_units=admin_actions.MAX_UNITS,
                    prefill=order_prefill(request.args, frame.catalog(domain)))

    @app.get("/store/<handle>/products", endpoint="admin_products")
    def products(handle):
        try:
            domain = shop_for(emulator, handle)
        except Refused as exc:
            return _refused(exc)
        return page("admin/products.html", domain, "products", max_available=admin_actions.MAX_AVAILABLE)

    @app.get("/shopifycloud/app-bridge.js", endpoint="app_bridge_standin")
    def app_bridge():
        response = send_from_directory(app.root_path + "/" + STATIC, "app-bridge.js",
                                       mimetype="text/javascript", max_age=0)
        # Framed pages of the app's origin load it, like Shopify's CDN copy.
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    @app.get("/shopifycloud/polaris.js", endpoint="polaris_standin")
    def polaris():
        response = Response(polaris_script(), content_type="text/javascript; charset=utf-8")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    return frame


POLARIS_PARTS = ("polaris.js", "polaris-controls.js", "polaris-overlays.js")


def polaris_script() -> str:
    """The Polaris stand-in as one script, like the CDN's: its parts, with the vendored schema
    (static/polaris-elements.json) in place of polaris.js' ``/*SCHEMA*/null``, so the strict
    checks run from the first element on, with no request the app's CSP might refuse."""
    static = Path(__file__).resolve().parent / STATIC
    schema = json.loads((static / "polaris-elements.json").read_text(encoding="utf-8"))
    schema = json.dumps(schema, separators=(",", ":"))
    parts = [(static / name).read_text(encoding="utf-8") for name in POLARIS_PARTS]
    parts[0] = parts[0].replace("/*SCHEMA*/null", schema, 1)
    return "\n".join(parts)
