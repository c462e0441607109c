"""The admin home's JSON: the setup guide (each step ticked by the shop's real state), the health
of every connection, and the test notice the guide's last step sends. Session-token protected;
the shop comes from the token only.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from integration.amazon import connect as amazon_connect
from integration.notices.test_notice import send_test_notice
from integration.shops import connection_health, setup_guide
from integration.views.amazon_connect import account_json
from integration.views.api import _import_json, _latest_import
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("home_api", __name__, url_prefix="/api")

MAX_BODY = 1024


@bp.get("/home")
@require_session
def home():
    shop = g.shop
    alerts = connection_health.shop_alerts(shop.id)
    accounts = amazon_connect.list_accounts(shop.id)
    amazon = connection_health.amazon_health(shop.id, accounts, alerts)
    steps = setup_guide.setup_steps(shop.id)
    return jsonify(
        shop={"domain": shop.domain, "name": shop.name, "email": shop.email},
        setup={"steps": steps, "done": sum(1 for s in steps if s["done"]), "total": len(steps)},
        health={
            "shopify": {**connection_health.shopify_health(shop), "last_import": _import_json(_latest_import(shop.id))},
            "warehouses": connection_health.warehouse_health(shop.id, alerts),
            "amazon": [{**account_json(a), **amazon[a.id]} for a in accounts],
            "open_alerts": [connection_health.alert_json(a) for a in alerts[:20]],
            "open_alerts_total": len(alerts),
        },
    )


@bp.post("/notifications/test")
@require_session
def test_notice():
    """Body ``{"kind": "shipped", "locale": "de", "key": "<one per click>"}``: 202 with the queued
    notice; the same key again answers 200 with the same notice."""
    notice, created = send_test_notice(g.shop, read_json_object(MAX_BODY))
    return jsonify(notification={"id": notice.id, "kind": notice.kind, "locale": notice.locale,
                                 "recipient": notice.recipient, "status": notice.status}), 202 if created else 200
