"""Storefront stock status through the app proxy (``https://{shop}/apps/nearstock/...``).

* ``GET /proxy/stock?variant_id=&country=&locale=``: the live status of a variant for the
  shopper's market, as JSON. The hot path is one Redis round trip (the installed-shop entry and
  the variant's status fields, pipelined) and no database: bodies are prepared by the stock
  engine's refresh (:mod:`integration.storefront.status`). The key is built from the signed
  ``shop``, so another shop's variant is never served (404, and no refresh is asked for ids the
  shop does not own beyond a small per-minute budget).
* ``POST /proxy/back-in-stock``: sign-up (e-mail + variant), rate-limited per IP and per e-mail.
* ``GET|POST /proxy/back-in-stock/confirm`` and ``/unsubscribe``: the links of the e-mails.

Every request is verified first (:func:`integration.views.app_proxy.verified_proxy_params`):
missing or forged signature 401, stale timestamp 403, shop without the app 403.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
import time
from urllib.parse import parse_qsl

import structlog
from flask import Blueprint, Response, g, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import select

from connectors.untrusted_input import seconds_since
from integration.errors import APIError
from integration.extensions import db
from integration.metrics import REQUEST_LATENCY
from integration.models import Shop
from integration.shops import installation
from integration.shops.shop_settings import mark_storefront_seen
from integration.shops.verification import is_valid_shop_domain, proxy_query_is_authentic
from integration.storefront import cache
from integration.storefront.status import market_of
from integration.storefront.texts import DEFAULT_LOCALE, resolve_locale
from integration.views.app_proxy import TIMESTAMP_WINDOW, signed_customer, verified_proxy_params
from integration.views.request_body import read_json_object

log = structlog.get_logger(__name__)

bp = Blueprint("proxy_stock", __name__, url_prefix="/proxy")

IP_LIMIT = (10, 600)  # sign-ups per IP per 10 minutes
EMAIL_LIMIT = (5, 86400)  # sign-ups per e-mail address per day
SHOP_LIMIT = (2000, 3600)  # sign-ups per shop per hour: a flood stops before the outbox does
MAX_BODY = 4096
_VARIANT = re.compile(r"^[0-9]{1,20}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}$")
NO_STORE = "no-store"
LIVE_CACHE = "private, max-age=10"  # a shopper switching variants back and forth asks once


def storefront_proxy(prefetch=None):
    """Like :func:`integration.views.app_proxy.require_proxy`, but the installed-shop check is a
    Redis entry (filled from the database on a miss, kept ``INSTALLED_TTL`` seconds), so the
    storefront's hot path never queries the database. ``prefetch(params)`` may return
    ``[(key, fields)]`` read by HMGET in the same round trip (``g.prefetched``).

    Sets ``g.shop_id``, ``g.shop_domain``, ``g.proxy_params`` and ``g.customer_id``."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            params = verified_proxy_params()
            domain = str(params.get("shop", ""))
            if not is_valid_shop_domain(domain):
                log.warning("proxy.unknown_shop", shop=domain[:255])
                raise APIError(403, "unknown_shop", "the app is not installed on this shop")
            extra = prefetch(params) if prefetch else []
            shop_id, g.prefetched = cache.lookup(domain, extra)
            if shop_id is cache.MISSING:
                shop = installation.get_installed(domain)
                shop_id = shop.id if shop else 0
                if shop_id:
                    mark_storefront_seen(shop_id)  # the setup guide's "storefront block is on"
                db.session.rollback()  # no transaction left open by the check
                cache.remember_installed(domain, shop_id)
            if not shop_id:
                log.warning("proxy.unknown_shop", shop=domain)
                raise APIError(403, "unknown_shop", "the app is not installed on this shop")
            g.shop_id, g.shop_domain, g.proxy_params = shop_id, domain, params
            g.customer_id = signed_customer(params)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _locale_param(value: str) -> str:
    return resolve_locale(value, "") if value and _LOCALE.match(value) else ""


def _stock_fields(params) -> list:
    variant = str(params.get("variant_id", ""))
    if not _VARIANT.match(variant):
        return []
    market = market_of(str(params.get("country", "")))
    return [(cache.status_key(str(params.get("shop", "")), variant),
             cache.status_fields(market, _locale_param(str(params.get("locale", "")))))]


@bp.get("/stock")
@storefront_proxy(prefetch=_stock_fields)
def stock():
    """The complete path (also what :class:`FastStock` falls back to): errors, cache misses."""
    variant = str(g.proxy_params.get("variant_id", ""))
    if not _VARIANT.match(variant):
        raise APIError(400, "invalid_variant", "variant_id must be a numeric Shopify id")
    body = next((v for v in g.prefetched[0] if v is not None), None)
    if body is None:
        cache.warm_on_miss(g.shop_id, variant)
        response = jsonify(error={"code": "unknown_variant", "message": "no status for this variant (yet)"})
        response.status_code = 404
        response.headers["Cache-Control"] = NO_STORE
        return response
    return Response(body, mimetype="application/json", headers={"Cache-Control": LIVE_CACHE})


class FastStock:
    """WSGI middleware answering ``GET /proxy/stock`` cache hits before Flask is involved.

    A hit costs the signature check, one Redis round trip and the bytes prepared by the refresh:
    about half of what a bare Flask route costs, which is what lets a 2-core web node answer
    thousands of product-page refreshes per second. Whatever is not a plain hit (bad or stale
    signature, unknown or uninstalled shop, bad parameters, no status yet, Redis trouble) goes to
    the Flask view unchanged, which answers it with the usual errors, logging and metrics.
    Installed by the blueprint's registration (:func:`_install_fast_path`)."""

    PATH = "/proxy/stock"

    def __init__(self, wsgi_app, flask_app) -> None:
        self.wsgi_app = wsgi_app
        self.config = flask_app.config["NEARSTOCK"]

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != self.PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        body = self._hit(environ.get("QUERY_STRING", ""))
        if body is None:
            return self.wsgi_app(environ, start_response)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                  ("Cache-Control", LIVE_CACHE)])
        REQUEST_LATENCY.labels("GET", self.PATH, 200).observe(time.perf_counter() - started)
        return [body]

    def _hit(self, query: str) -> bytes | None:
        params: dict[str, str | list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key in params:
                current = params[key]
                params[key] = [*current, value] if isinstance(current, list) else [current, value]
            else:
                params[key] = value
        domain, variant = params.get("shop"), params.get("variant_id")
        if not (isinstance(domain, str) and isinstance(variant, str) and _VARIANT.match(variant)
                and is_valid_shop_domain(domain) and proxy_query_is_authentic(params, self.config)):
            return None
        age = seconds_since(params.get("timestamp"))
        if age is None or abs(age) > TIMESTAMP_WINDOW:
            return None
        try:
            shop_id, (values,) = cache.lookup(domain, _stock_fields(params))
        except RedisError:
            return None
        if shop_id is cache.MISSING or not shop_id:
            return None
        return next((v for v in values if v is not None), None)


@bp.record_once
def _install_fast_path(state) -> None:
    state.app.wsgi_app = FastStock(state.app.wsgi_app, state.app)


# -- back in stock --------------------------------------------------------------------------------


def client_ip() -> str:
    # Shopify forwards the shopper's address in X-Forwarded-For (first hop); behind our own load
    # balancer the header grows to the right, so the first entry is still the shopper's.
    forwarded = request.headers.get("X-Forwarded-For", "")
    return (forwarded.split(",")[0].strip() or request.remote_addr or "unknown")[:64]


def _limited(what: str, limit: tuple[int, int]) -> None:
    wait = cache.hit(g.shop_domain, what, *limit)
    if wait:
        log.info("back_in_stock.rate_limited", what=what.split(":")[0], shop=g.shop_domain)
        raise _TooMany(wait)


class _TooMany(APIError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "rate_limited", "too many sign-ups; try again later")
        self.retry_after = retry_after

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


def _shop() -> Shop:
    shop = db.session.execute(select(Shop).where(Shop.id == g.shop_id)).scalar_one_or_none()
    if shop is None or shop.status != "installed":
        cache.forget_shop(g.shop_domain)
        raise APIError(403, "unknown_shop", "the app is not installed on this shop")
    return shop


@bp.post("/back-in-stock")
@storefront_proxy()
def back_in_stock():
    from integration.storefront import back_in_stock as subs

    if (request.content_length or 0) > MAX_BODY:
        raise APIError(413, "too_large", "request body too large")
    data = read_json_object(MAX_BODY) if request.is_json else request.form
    email = str(data.get("email", "") or "")[:320]
    _limited(f"ip:{hashlib.sha256(client_ip().encode()).hexdigest()[:24]}", IP_LIMIT)
    normalized = subs.normalize_email(email)
    if normalized is None:
        raise APIError(400, "invalid_email", "a valid e-mail address is required")
    _limited(f"em:{hashlib.sha256(normalized.encode()).hexdigest()[:24]}", EMAIL_LIMIT)
    _limited("shop", SHOP_LIMIT)
    try:
        subs.subscribe(_shop(), str(data.get("variant_id", "") or ""), normalized,
                       locale=_locale_param(str(data.get("locale", "") or "")) or None,
                       country=market_of(str(data.get("country", "") or "")).replace("*", "") or None,
                       product_path=str(data.get("product_path", "") or "")[:255] or None,
                       customer_id=g.customer_id)
        db.session.commit()
    except subs.SignupError as exc:
        db.session.rollback()
        raise APIError(exc.status, exc.code, exc.message) from None
    # The same answer whether the address was new, pending or already subscribed: the form must
    # not tell a stranger who is subscribed to what.
    response = jsonify(ok=True, status="check_inbox")
    response.status_code = 202
    response.headers["Cache-Control"] = NO_STORE
    return response


PAGES = {
    "confirm": ("Confirm your back-in-stock alert", "Confirm", "You will get one e-mail when it is back in stock.",
                "This link is no longer valid."),
    "unsubscribe": ("Stop this back-in-stock alert", "Unsubscribe", "You will not get this alert.",
                    "This link is no longer valid."),
}


def _page(action: str, state: str, token: str = "") -> Response:
    title, button, done, invalid = PAGES[action]
    if state == "ask":
        body = (f'<form method="post"><input type="hidden" name="token" value="{html.escape(token)}">'
                f'<button type="submit">{button}</button></form>')
    else:
        body = f"<p>{done if state == 'done' else invalid}</p>"
    page = (f'<!doctype html><html lang="{DEFAULT_LOCALE}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>")
    response = Response(page, status=200 if state != "invalid" else 404, mimetype="text/html")
    response.headers["Cache-Control"] = NO_STORE
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


def _link_view(action: str):
    from integration.storefront import back_in_stock as subs

    token = str(request.form.get("token") if request.method == "POST" else g.proxy_params.get("token", "") or "")
    shop = _shop()
    if request.method == "GET":  # look, don't touch: scanners follow links
        ok = subs.check_token(shop, token, action)
        db.session.rollback()
        return _page(action, "ask" if ok else "invalid", token)
    ok = (subs.confirm if action == "confirm" else subs.unsubscribe)(shop, token)
    db.session.commit()
    return _page(action, "done" if ok else "invalid")


@bp.route("/back-in-stock/confirm", methods=["GET", "POST"])
@storefront_proxy()
def confirm():
    return _link_view("confirm")


@bp.route("/back-in-stock/unsubscribe", methods=["GET", "POST"])
@storefront_proxy()
def unsubscribe():
    return _link_view("unsubscribe")
