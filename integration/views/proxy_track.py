"""The customer's tracking page: ``https://{shop}/apps/nearstock/track`` through the app proxy.

An order is found either by the signed link in every notice (``GET ?t=``: it names the order; only
the e-mail's recipient has it) or by order number *and* e-mail address typed in the form — never by
a tracking number alone. The form is POSTed (Shopify's proxy signs the query and forwards the
body), so the address never sits in a URL: not in the browser's history, nor in any access log on
the way. Typed look-ups are rate-limited in Redis per client IP (Shopify's ``X-Forwarded-For``)
and per order number, so neither one address nor many can guess e-mails.

The answer is ``application/liquid``: Shopify renders it inside the shop's theme. Nothing from the
request is ever written into it (the form is not even refilled), and every value from the
database is HTML-escaped with braces turned into character references, so no ``{{`` or ``{%`` can
reach Shopify's Liquid renderer. ``?view=page`` answers a standalone ``text/html`` page instead.
"""

from __future__ import annotations

import re

import structlog
from flask import Blueprint, Response, g, request
from sqlalchemy import func, select

from integration.extensions import db, redis
from integration.models import Order, OutboundOrder, Shipment, TrackingEventRow, Warehouse
from integration.notices import links
from integration.notices import render as rendering
from integration.notices.triggers import add_business_days, transit_window
from integration.views.app_proxy import require_proxy

log = structlog.get_logger(__name__)

bp = Blueprint("proxy_track", __name__, url_prefix="/proxy")

IP_LIMIT = (20, 600)  # typed look-ups per client IP per 10 minutes
ORDER_LIMIT = (8, 3600)  # typed look-ups per order number per hour (whatever the IP)
_ORDER_NUMBER = re.compile(r"^#?[A-Za-z0-9-]{1,60}$")


def _client_ip() -> str:
    # Shopify's proxy sets X-Forwarded-For to the shopper's address (first entry).
    forwarded = request.headers.get("X-Forwarded-For", "")
    return (forwarded.split(",")[0].strip() or request.remote_addr or "unknown")[:64]


def _over_limit(key: str, limit: tuple[int, int]) -> bool:
    count, window = limit
    pipe = redis.client.pipeline()
    pipe.set(key, 0, ex=window, nx=True)  # the window starts with the first look-up (Redis 6 has no EXPIRE NX)
    pipe.incr(key)
    used = pipe.execute()[1]
    return int(used) > count


def _find(shop_id: int, number: str, email: str) -> Order | None:
    number = number.strip()
    if not _ORDER_NUMBER.match(number) or "@" not in email:
        return None
    names = {number, f"#{number.lstrip('#')}"}
    return db.session.execute(
        select(Order).where(Order.shop_id == shop_id, Order.name.in_(names),
                            func.lower(Order.email) == email.strip().lower(), Order.redacted_at.is_(None))
        .order_by(Order.id.desc()).limit(1)
    ).scalar_one_or_none()


def _shipments(order: Order) -> list[dict]:
    out = []
    rows = db.session.execute(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)).scalars()
    for s in rows:
        outbound = db.session.get(OutboundOrder, s.outbound_id)
        warehouse = db.session.get(Warehouse, outbound.warehouse_id) if outbound else None
        events = db.session.execute(
            select(TrackingEventRow).where(TrackingEventRow.shipment_id == s.id)
            .order_by(TrackingEventRow.occurred_at.desc())
        ).scalars().all()
        item = {"order_name": order.name, "status": s.status, "reason": s.status_reason, "carrier": s.carrier,
                "tracking_number": s.tracking_number, "carrier_url": s.tracking_url,
                "events": [{"occurred_at": e.occurred_at, "status": e.status, "reason": e.reason,
                            "location": e.location, "description": e.description} for e in events]}
        if warehouse is not None:
            item.update(warehouse_name=warehouse.name or warehouse.code, warehouse_country=warehouse.country_code)
        window = transit_window(warehouse, order.shipping_country)
        if window:
            shipped = (s.shipped_at or s.created_at).date()
            item.update(estimate_from=add_business_days(shipped, window[0]),
                        estimate_to=add_business_days(shipped, window[1]))
        out.append(item)
    return out


def _remember_prefix(shop_id: int) -> None:
    """Notices link to the proxy path the merchant chose (they can rename the subpath)."""
    prefix = str(request.args.get("path_prefix", ""))
    if re.fullmatch(r"/(apps|a|community|tools)/[A-Za-z0-9_-]{1,64}", prefix):
        redis.client.set(f"nearstock:proxy_prefix:{shop_id}", prefix, ex=90 * 24 * 3600)


@bp.route("/track", methods=["GET", "POST"])
@require_proxy
def track():
    shop = g.shop
    _remember_prefix(shop.id)
    order: Order | None = None
    error: str | None = None
    status = 200
    token = request.args.get("t") if request.method == "GET" else None
    if token:
        data = links.read_tracking_token(token)
        if data and data["s"] == shop.id:
            order = db.session.get(Order, data["o"])
            if order is not None and (order.shop_id != shop.id or order.redacted_at is not None):
                order = None
        if order is None:
            error = "expired"
    elif request.method == "POST":
        number, email = request.form.get("order", "")[:64], request.form.get("email", "")[:320]
        key = re.sub(r"[^A-Za-z0-9-]", "", number)[:60].lower()
        if _over_limit(f"nearstock:track:ip:{_client_ip()}", IP_LIMIT) or _over_limit(
                f"nearstock:track:order:{shop.id}:{key}", ORDER_LIMIT):
            error, status = "rate_limited", 429
            log.warning("proxy.track_rate_limited", shop=shop.domain)
        else:
            order = _find(shop.id, number, email)
            if order is None:
                error = "not_found"
    variables = {"order": order, "shipments": _shipments(order) if order else [], "error": error,
                 "returns_token": links.tracking_token(shop.id, order.id) if order and order.channel == "shopify"
                 else None}
    return proxy_page("pages/track.html", variables, order=order, status=status)


def proxy_page(template: str, variables: dict, *, order: Order | None, status: int = 200) -> Response:
    """A storefront page in the order's language (else the shopper's, else the shop's): a Liquid
    fragment for Shopify to frame in the theme, or with ``?view=page`` a standalone page."""
    locale = order.locale if order and order.locale else request.accept_languages.best_match(
        [loc for loc in rendering.SUPPORTED_LOCALES]) or g.shop.primary_locale
    fragment, _lang = rendering.render_page(template, variables, locale=locale,
                                            country=order.shipping_country if order else None)
    # Belt and braces: the template has no Liquid and values are neutralised; make sure.
    fragment = fragment.replace("{{", "&#123;&#123;").replace("{%", "&#123;%")
    if request.args.get("view") == "page":
        page, _lang = rendering.render_page("pages/_track_page.html", {"fragment": fragment, "page": template},
                                          locale=locale)
        response = Response(page, status=status, mimetype="text/html")
    else:
        response = Response(fragment, status=status, content_type="application/liquid; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
