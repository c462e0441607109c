"""The start page of ``make run`` (development only, for a browser on this machine): one address
from which a newcomer reaches everything — the store's local Shopify admin (install the app
there), the storefront, the ``.eml`` outbox, the warehouse emulators' control page — with the
steps of the whole loop, and the guided demo store as an opt-in.

    GET  /start              the page
    POST /start/demo-store   set up the guided demo store (JSON; idempotent)

Both are :func:`~integration.views.local_client.development_only`: 404 in production and to any
other client. The POST takes JSON only: a page on another site cannot send that without a CORS
preflight, which this app never grants, so it cannot press the button for the visitor.
"""

from __future__ import annotations

import secrets

import structlog
from flask import Blueprint, current_app, jsonify, render_template, url_for

from integration.demo import guided_store
from integration.views.local_client import development_only
from integration.views.request_body import read_json_object
from integration.warehouses.demo_accounts import control_url
from integration.warehouses.setup_validation import SetupError

bp = Blueprint("start_page", __name__)
log = structlog.get_logger(__name__)


@bp.get("/start")
@development_only
def start():
    config = current_app.config["NEARSTOCK"]
    sandbox = config.shopify_sandbox
    nonce = secrets.token_urlsafe(16)
    html = render_template(
        "start.html", nonce=nonce, speedup=config.cron_speedup, shop=sandbox.get("shop"),
        admin_url=sandbox.get("admin_url"), storefront_url=sandbox.get("storefront_url"),
        product_path=guided_store.DEMO_PRODUCT_PATH, control_url=control_url(config),
        outbox_url=url_for("notifications.outbox"), app_url=config.app_url, progress=guided_store.progress(config),
        german_order=guided_store.GERMAN_TEST_ORDER)
    response = current_app.make_response(html)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/start/demo-store")
@development_only
def demo_store():
    read_json_object(1024, empty_ok=True)  # JSON only (see the module docstring); nothing in it is read
    config = current_app.config["NEARSTOCK"]
    try:
        done = guided_store.set_up(config)
    except guided_store.DemoError as exc:
        log.warning("start_page.demo_refused", status=exc.status, reason=exc.message)
        return jsonify(error={"code": "demo_not_ready", "message": exc.message}), exc.status
    except SetupError as exc:  # a warehouse emulator refused the demo account
        log.warning("start_page.demo_refused", status=exc.status, reason=exc.message)
        return jsonify(error={"code": exc.code, "message": exc.message}), exc.status
    return jsonify(demo=done)
