"""Notification pages and API.

* ``bp`` (no session): template previews with sample data and the development outbox mailbox
  (outside production, for a client on this machine only), and the customer's one-click
  unsubscribe page (authorised by its signed token). The delivery-rating page is
  :mod:`integration.views.feedback_page`.

The merchant's API (``/api/notifications``, App Bridge session) is :mod:`integration.views.notices_api`.
"""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from markupsafe import escape

from integration.extensions import db
from integration.models import Shop
from integration.notices import links, samples
from integration.notices import outbox as notifications
from integration.notices import render as rendering
from integration.views.local_client import development_only

bp = Blueprint("notifications", __name__)

_EML = re.compile(r"^[A-Za-z0-9._-]{1,200}\.eml$")
# Previews and outbox messages are shown as-is: no scripts, no framing by others.
_PREVIEW_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _html(body: str, status: int = 200, csp: str = _PREVIEW_CSP) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def check_kind(kind: str) -> None:
    if kind not in notifications.KINDS:
        abort(404)


def preview_response(kind: str, branding: rendering.Branding) -> Response:
    """One kind rendered with sample data: ``?locale=``, ``?variant=``, ``?part=text|json``."""
    variant = request.args.get("variant") or None
    if variant is not None and variant not in samples.variants(kind):
        abort(404)
    locale = rendering.negotiate(request.args.get("locale"))
    rendered = rendering.render(kind, samples.sample_context(kind, variant), locale=locale, branding=branding,
                                links=samples.SAMPLE_LINKS, country="DE")
    part = request.args.get("part")
    if part == "text":
        return Response(rendered.text, mimetype="text/plain")
    if part == "json":  # the admin page: the subject in that language, the HTML for its sandboxed frame
        return jsonify(kind=kind, locale=rendered.lang, subject=rendered.subject, html=rendered.html,
                       text=rendered.text)
    return _html(rendered.html)


@bp.get("/admin/notifications/preview/<kind>")
@development_only  # the previews and the outbox (customers' mail): see local_client
def preview(kind: str):
    check_kind(kind)
    return preview_response(kind, rendering.SAMPLE_BRANDING)


def templates_json() -> list[dict]:
    out = []
    for kind in notifications.KINDS:
        for variant in samples.variants(kind):
            sample = rendering.render(kind, samples.sample_context(kind, variant), locale="en",
                                      branding=rendering.SAMPLE_BRANDING, links=samples.SAMPLE_LINKS)
            out.append({
                "kind": kind, "variant": variant, "category": notifications.CATEGORY[kind],
                "subject": sample.subject,
                "locales": list(rendering.SUPPORTED_LOCALES),
                "preview_url": url_for("notifications.preview", kind=kind, **({"variant": variant} if variant else {})),
            })
    return out


# -- development outbox ----------------------------------------------------------------------------------


@bp.get("/admin/outbox")
@development_only
def outbox():
    folder = current_app.config["NEARSTOCK"].outbox_path
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:200] if folder.exists() else []
    rows = []
    for path in files:
        with path.open("rb") as fp:
            headers = BytesParser(policy=policy.default).parse(fp, headersonly=True)
        rows.append(f"<tr><td>{escape(headers.get('Date', ''))}</td><td>{escape(headers.get('To', ''))}</td>"
                    f"<td><a href=\"{escape(url_for('notifications.outbox_message', name=path.name))}\">"
                    f"{escape(headers.get('Subject', ''))}</a></td></tr>")
    body = ("<!doctype html><meta charset=utf-8><title>Outbox</title>"
            "<style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem}td{padding:.3rem .8rem;"
            "border-bottom:1px solid #eee}</style><h1>Outbox</h1>"
            f"<p>{len(files)} message(s) in {escape(str(folder))}</p><table>{''.join(rows)}</table>")
    return _html(body)


@bp.get("/admin/outbox/<name>")
@development_only
def outbox_message(name: str):
    if not _EML.match(name):
        abort(404)
    path = current_app.config["NEARSTOCK"].outbox_path / name
    if not path.is_file():
        abort(404)
    with path.open("rb") as fp:
        message = BytesParser(policy=policy.default).parse(fp)
    part = request.args.get("part")
    if part in ("html", "text"):
        body = message.get_body(preferencelist=(part,))
        content = body.get_content() if body is not None else ""
        return Response(content, mimetype="text/plain") if part == "text" else _html(content)
    if part == "raw":
        return Response(path.read_bytes(), mimetype="text/plain")
    shown = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
             "Content-Language")
    headers = "".join(f"<tr><th>{h}</th><td>{escape(message.get(h, ''))}</td></tr>" for h in shown if message.get(h))
    html_url = escape(url_for("notifications.outbox_message", name=name, part="html"))
    text_url = escape(url_for("notifications.outbox_message", name=name, part="text"))
    raw_url = escape(url_for("notifications.outbox_message", name=name, part="raw"))
    body = ("<!doctype html><meta charset=utf-8><title>Outbox message</title>"
            "<style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem}th{text-align:left;padding-right:1rem}"
            "iframe{width:100%;height:70vh;border:1px solid #ddd}</style>"
            f"<p><a href=\"{escape(url_for('notifications.outbox'))}\">&larr; Outbox</a> · "
            f"<a href=\"{text_url}\">text</a> · <a href=\"{raw_url}\">raw</a></p>"
            f"<table>{headers}</table><iframe sandbox src=\"{html_url}\"></iframe>")
    return _html(body, csp="default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'")


# -- one-click unsubscribe (RFC 8058) -----------------------------------------------------------------------


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    data = links.read_unsubscribe_token(token)
    if data is None:
        abort(404)
    shop = db.session.get(Shop, data["s"])
    if shop is None:
        abort(404)
    done = request.method == "POST"
    if done:  # one-click from the mail client ("List-Unsubscribe=One-Click") or the page's button
        notifications.set_opt_out(shop.id, data["e"], data["c"])
        db.session.commit()
    html, _lang = rendering.render_page("pages/unsubscribe.html", {"done": done, "shop_name": shop.name or shop.domain,
                                                                    "category": data["c"]},
                                        locale=data.get("l") or shop.primary_locale)
    return _html(html, csp="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
