"""The customer's return request page: ``https://{shop}/apps/nearstock/returns`` through the app
proxy, linked from the tracking page and the "delivered" e-mail.

* ``GET ?t=<tracking token>``: the form for that order (the same signed token the tracking link
  carries: only the customer who was sent it, or who typed the order's number and e-mail on the
  tracking page, has it). The form carries a signed single-use token naming the order.
* ``POST`` the form: the request, filed once (:mod:`integration.returns.customer_request`); the
  form is used up when the request is filed.

Shopify's proxy signature is checked first (forged 401, stale 403, unknown shop 403). Then: a
forged, expired or other shop's token 404; the order of another logged-in customer 403; a form
sent twice 409; a body over :data:`MAX_BODY` 413, not a urlencoded form 415; a malformed field
400; a refused choice (an unknown reason, more units than returnable...) 422. Each refusal is
logged, changes nothing, and answers the page in the customer's language.
"""

from __future__ import annotations

import re

import structlog
from flask import Blueprint, Response, g, request

from connectors.errors import ConnectorError, PermanentError
from integration.extensions import db, redis
from integration.models import Order
from integration.notices import links
from integration.returns import customer_request
from integration.returns.customer_request import Chosen, RequestError
from integration.views.app_proxy import require_proxy
from integration.views.proxy_track import proxy_page

log = structlog.get_logger(__name__)

bp = Blueprint("proxy_returns", __name__, url_prefix="/proxy")

MAX_BODY = 16 * 1024  # 50 lines of three short fields and a 300-character note, percent-encoded
MAX_TOKEN = 512  # our tokens are ~120-160 characters
MAX_FIELDS = 3 * customer_request.MAX_LINES + 3
_FIELD = re.compile(r"(quantity|reason|exchange)-([0-9]{1,20})")
_QUANTITY = re.compile(r"[0-9]{1,4}")


class _Refused(Exception):
    def __init__(self, status: int, state: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.state, self.reason = status, state, reason


@bp.route("/returns", methods=["GET", "POST"])
@require_proxy
def returns():
    order: Order | None = None
    try:
        if request.method == "POST":
            _check_body()
            order, nonce = _form_order()
            chosen, kind, note = _parse_form()
            return _submit(order, nonce, chosen, kind, note)
        order = _linked_order(request.args.get("t", ""))
        return _form(order)
    except _Refused as refused:
        log.warning("return_form.refused", status=refused.status, reason=refused.reason, shop=g.shop.domain,
                    order_id=order.id if order else None)
        return proxy_page("pages/return.html", {"state": refused.state, "order": order}, order=order,
                          status=refused.status)


def _check_body() -> None:
    if (request.content_length or 0) > MAX_BODY:
        raise _Refused(413, "invalid", "body_too_large")
    if request.mimetype != "application/x-www-form-urlencoded":
        raise _Refused(415, "invalid", "not_a_form")
    if len(request.get_data(cache=True)) > MAX_BODY:  # a chunked body declares no length
        raise _Refused(413, "invalid", "body_too_large")


def _order_of(data: dict | None) -> Order:
    """The token's order, if it is this shop's, not erased, and a Shopify order."""
    order = db.session.get(Order, data["o"]) if data and data["s"] == g.shop.id else None
    if order is None or order.shop_id != g.shop.id or order.redacted_at is not None or order.channel != "shopify":
        raise _Refused(404, "expired", "unknown_order")
    if g.customer_id and order.customer_external_id and g.customer_id != order.customer_external_id:
        # Signed in as someone else (the proxy names the customer): not theirs to return.
        raise _Refused(403, "forbidden", "another_customer")
    return order


def _linked_order(token: str) -> Order:
    return _order_of(links.read_tracking_token(token) if 0 < len(token) <= MAX_TOKEN else None)


def _form_order() -> tuple[Order, str]:
    token = request.form.get("f", "")
    data = links.read_return_form_token(token) if 0 < len(token) <= MAX_TOKEN else None
    return _order_of(data), str(data["n"])


def _parse_form() -> tuple[list[Chosen], str, str | None]:
    """The chosen lines (a quantity above 0), the kind and the note; 400 when malformed."""
    form = request.form
    if len(form) > MAX_FIELDS or any(len(form.getlist(k)) > 1 for k in form):
        raise _Refused(400, "invalid", "too_many_fields")
    fields: dict[str, dict[str, str]] = {}
    for name, value in form.items():
        if name in ("f", "kind", "note"):
            continue
        match = _FIELD.fullmatch(name)
        if match is None or len(value) > 255:
            raise _Refused(400, "invalid", "unknown_field")
        fields.setdefault(match.group(2), {})[match.group(1)] = value.strip()
    chosen = []
    for key, values in fields.items():
        quantity = values.get("quantity", "0") or "0"
        if not _QUANTITY.fullmatch(quantity):
            raise _Refused(400, "invalid", "bad_quantity")
        if int(quantity) > 0:
            chosen.append(Chosen(key=key, quantity=int(quantity), reason=values.get("reason", ""),
                                 exchange_sku=values.get("exchange") or None))
    note = form.get("note", "").strip() or None
    return chosen, form.get("kind", "refund"), note


def _nonce_key(nonce: str) -> str:
    return f"nearstock:return_form:{nonce}"


def _claim(nonce: str) -> None:
    """Each form is sent once: a replay (the same signed proxy request, or the form again) is 409."""
    if not redis.client.set(_nonce_key(nonce), 1, nx=True, ex=links.RETURN_FORM_MAX_AGE):
        raise _Refused(409, "replayed", "form_replayed")


def _form(order: Order, *, status: int = 200, error: str | None = None, field: str | None = None) -> Response:
    try:
        lines = customer_request.form_lines(g.shop, order)
    except ConnectorError as exc:
        log.warning("return_form.shopify_unavailable", order_id=order.id, error=str(exc))
        raise _Refused(503, "unavailable", "shopify_unavailable") from None
    variables = {"order": order, "lines": lines, "reasons": customer_request.accepted_reasons(g.shop.id),
                 "token": links.return_form_token(g.shop.id, order.id), "error": error, "field": field,
                 "state": "form" if lines else "none"}
    return proxy_page("pages/return.html", variables, order=order, status=status)


def _submit(order: Order, nonce: str, chosen: list[Chosen], kind: str, note: str | None) -> Response:
    try:
        lines = customer_request.checked_lines(g.shop, order, chosen, kind=kind, note=note)
        _claim(nonce)  # only a request that can be filed uses the form up: a refused one may be corrected
        customer_request.submit(g.shop, order, lines, chosen, kind=kind, note=note)
    except RequestError as exc:
        db.session.rollback()
        log.warning("return_form.refused", status=exc.status, reason=exc.code, field=exc.field, order_id=order.id)
        return _form(order, status=exc.status, error=exc.code, field=exc.field)
    except PermanentError as exc:  # e.g. the app lost its returns scope
        db.session.rollback()
        log.error("return_form.shopify_refused", order_id=order.id, error=str(exc))
        raise _Refused(503, "unavailable", "shopify_refused") from None
    except ConnectorError as exc:
        db.session.rollback()
        # Sending the same form again is safe (a return Shopify made before the answer was lost
        # is found, not made twice), so the customer may retry it.
        redis.client.delete(_nonce_key(nonce))
        log.warning("return_form.shopify_unavailable", order_id=order.id, error=str(exc))
        raise _Refused(503, "unavailable", "shopify_unavailable") from None
    return proxy_page("pages/return.html", {"state": "done", "order": order}, order=order)
