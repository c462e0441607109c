"""The customer's feedback page, opened by a star in the "delivered" e-mail (no login: the link's
signed token is the authority; see :mod:`integration.feedback.answers` for what is stored).

* ``GET /notifications/feedback?t=<token>&rating=<1-5>``: the tap. Records that rating, then shows
  the form for the rest (prefilled with earlier answers, carrying a new single-use nonce). HEAD
  and browser prefetches record nothing.
* ``POST`` the form: stores the answers once per nonce; a replayed or superseded form is 409.

A forged, expired or other-shop token is 404; an invalid field 422; a body over
:data:`MAX_BODY` bytes 413. Every refusal is logged and renders the page in the customer's language.
"""

from __future__ import annotations

import structlog
from flask import Blueprint, Response, request

from integration.extensions import db
from integration.feedback import answers
from integration.models import Order
from integration.notices import links
from integration.notices import render as rendering

bp = Blueprint("feedback_page", __name__)
log = structlog.get_logger(__name__)

MAX_BODY = 32 * 1024  # the fields and a 2,000-character comment in any script, percent-encoded (x9 for CJK)
MAX_TOKEN = 512  # a feedback token is ~120 characters
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


def _page(status: int, locale: str | None, **variables) -> Response:
    variables.setdefault("state", "form")
    html, _lang = rendering.render_page("pages/feedback.html", variables, locale=locale)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"  # the page carries a single-use nonce
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL carries the token
    return response


def _refuse(status: int, reason: str, locale: str | None, **fields) -> Response:
    log.info("feedback.refused", status=status, reason=reason, **fields)
    return _page(status, locale, state=reason)


def _order(token: str) -> tuple[Order | None, str | None]:
    data = links.read_feedback_token(token) if 0 < len(token) <= MAX_TOKEN else None
    if data is None:
        return None, None
    order = db.session.get(Order, data["o"])
    if order is None or order.shop_id != data["s"] or order.redacted_at is not None:
        return None, None
    return order, data.get("l") or order.locale


def _prefetch() -> bool:
    """A browser fetching ahead of a click (Chrome: Sec-Purpose, Safari/Firefox: Purpose/X-Moz)."""
    hints = " ".join(request.headers.get(h, "") for h in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"))
    return "prefetch" in hints.lower() or "preview" in hints.lower()


@bp.route("/notifications/feedback", methods=["GET", "POST"])
def feedback():
    if request.method == "POST":
        if (request.content_length or 0) > MAX_BODY:
            return _refuse(413, "too_large", request.accept_languages.best)
        if request.mimetype != "application/x-www-form-urlencoded":
            return _refuse(415, "invalid_form", request.accept_languages.best)
    token = request.values.get("t", "")
    order, locale = _order(token)
    if order is None:
        return _refuse(404, "invalid_link", request.accept_languages.best)
    if request.method == "POST":
        return _send(order, token, locale)
    try:
        rating = answers.parse_score(request.args.get("rating"), answers.STARS, "rating", required=True)
    except answers.AnswerError:
        return _refuse(400, "invalid_link", locale, order_id=order.id)
    if request.method == "HEAD" or _prefetch():
        return Response(status=204, headers={"Cache-Control": "no-store"})
    nonce = answers.record_tap(order, rating)
    log.info("feedback.tapped", shop_id=order.shop_id, order_id=order.id, rating=rating)
    return _page(200, locale, token=token, nonce=nonce, order_name=order.name, values=_values(order))


def _send(order: Order, token: str, locale: str | None) -> Response:
    nonce = request.form.get("n", "")
    try:
        given = answers.parse_answers(request.form)
    except answers.AnswerError as exc:
        log.info("feedback.refused", status=422, reason="invalid_answer", field=exc.field, order_id=order.id)
        return _page(422, locale, state="form", error=exc.field, token=token, nonce=nonce, order_name=order.name,
                     values=_values(order, request.form))
    if not (0 < len(nonce) <= 64) or not answers.record_answers(order, nonce, given):
        return _refuse(409, "already_sent", locale, order_id=order.id)
    log.info("feedback.answered", shop_id=order.shop_id, order_id=order.id)
    return _page(200, locale, state="done", order_name=order.name)


def _values(order: Order, form=None) -> dict[str, str]:
    """What the form shows checked: what was just typed (after a refusal), else what is stored."""
    names = ("rating", *answers.DIMENSIONS, "nps", "comment")
    if form is not None:
        return {name: str(form.get(name) or "")[:answers.MAX_COMMENT] for name in names}
    row = answers.find(order)
    return {name: "" if getattr(row, name) is None else str(getattr(row, name)) for name in names} if row else {}
