"""The embedded admin's warehouse setup API: 3PL accounts, warehouses and their Shopify location
mapping, routing rules, shop settings, open alerts and recent outbound orders.

Every route is session-token protected and scoped to ``g.shop``; every id in a path is looked up
within that shop, so another shop's id answers 404. Credentials are write-only: responses say
which keys are set, never their values. (Outside production, when ``make run``'s warehouse
emulators run, ``GET /warehouse-accounts`` offers their demo accounts: the emulators' own
credentials, never an account's.) Errors: ``{"error": {"code", "message", "field"?}}``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from integration.models import Alert, RoutingRule, ShopSettings, Warehouse, WarehouseAccount
from integration.orders import overview
from integration.shops import shop_settings
from integration.shops.alerts import open_alerts
from integration.views.admin_i18n import admin_locale
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session
from integration.views.setup_errors import setup_error_response
from integration.warehouses import accounts as warehouse_accounts
from integration.warehouses import connect_form, location_suggestions, routing_rules, transit_times
from integration.warehouses import settings as warehouse_settings
from integration.warehouses.countries import country_options
from integration.warehouses.setup_validation import InvalidError, SetupError

bp = Blueprint("warehouses_api", __name__, url_prefix="/api")

MAX_BODY = 64 * 1024


bp.register_error_handler(SetupError, setup_error_response)


def _allow_any_endpoint() -> bool:
    return not current_app.config["NEARSTOCK"].is_production


def _locale() -> str:
    """The admin's language: the page's module sends it as Accept-Language (``?locale=`` wins)."""
    return admin_locale(request.args.get("locale") or request.headers.get("Accept-Language"))


def _iso(value):
    return value.isoformat() if value else None


# -- serialisers (the only shapes that leave the server) ---------------------------------------

def account_json(account: WarehouseAccount, warehouses: int | None = None) -> dict:
    out = {
        "id": account.id,
        "provider": account.provider,
        "name": account.name,
        "endpoint": account.endpoint,
        "active": account.active,
        "credential_keys": warehouse_accounts.credential_keys(account),  # which keys are set; never a value
        "created_at": _iso(account.created_at),
    }
    if warehouses is not None:
        out["warehouses"] = warehouses
    return out


def warehouse_json(w: Warehouse) -> dict:
    return {
        "id": w.id, "account_id": w.account_id, "code": w.code, "name": w.name,
        "location_shopify_id": w.location_shopify_id, "country_code": w.country_code or None, "region": w.region,
        "handling_hours": w.handling_hours, "transit_days": w.transit_days or {},
        "transit_rows": transit_times.rows(w.transit_days), "priority": w.priority,
        "active": w.active, "updated_at": _iso(w.updated_at),
    }


def rule_json(r: RoutingRule) -> dict:
    return {"id": r.id, "warehouse_id": r.warehouse_id, "sku": r.sku, "country_code": r.country_code,
            "created_at": _iso(r.created_at)}


def settings_json(s: ShopSettings) -> dict:
    return {"split_orders": s.split_orders, "safety_stock": s.safety_stock, "channel_buffers": s.channel_buffers or {},
            "customer_notices_by": s.customer_notices_by, "low_stock_threshold": s.low_stock_threshold}


def alert_json(a: Alert) -> dict:
    return {"id": a.id, "kind": a.kind, "subject": a.subject, "message": a.message, "details": a.details,
            "created_at": _iso(a.created_at)}


# -- accounts ----------------------------------------------------------------------------------

@bp.get("/warehouse-accounts")
@require_session
def accounts():
    config = current_app.config["NEARSTOCK"]
    out = {"accounts": [account_json(a, n) for a, n in warehouse_accounts.list_accounts(g.shop.id)],
           "providers": connect_form.providers(config, g.shop.id)}
    sandbox = connect_form.sandbox(config)  # the warehouse emulators' control page (development)
    if sandbox:
        out["sandbox"] = sandbox
    return jsonify(out)


@bp.get("/warehouse-providers")
@require_session
def warehouse_providers():
    """The connect form: each provider's labelled credential fields (English; the page's strings
    translate them)."""
    config = current_app.config["NEARSTOCK"]
    out = {"providers": connect_form.providers(config, g.shop.id)}
    sandbox = connect_form.sandbox(config)
    if sandbox:
        out["sandbox"] = sandbox
    return jsonify(out)


@bp.get("/countries")
@require_session
def countries():
    """The country picker's list, named and sorted in the admin's language."""
    return jsonify(countries=[{"code": code, "name": name} for code, name in country_options(_locale())])


@bp.post("/warehouse-accounts")
@require_session
def create_account():
    account, discovery = warehouse_accounts.create_account(g.shop.id, read_json_object(MAX_BODY),
                                                           allow_any_endpoint=_allow_any_endpoint())
    return jsonify(account=account_json(account, discovery["found"]), discovery=discovery), 201


@bp.patch("/warehouse-accounts/<id:account_id>")
@require_session
def update_account(account_id: int):
    account = warehouse_accounts.update_account(g.shop.id, account_id, read_json_object(MAX_BODY),
                                                allow_any_endpoint=_allow_any_endpoint())
    return jsonify(account=account_json(account))


@bp.delete("/warehouse-accounts/<id:account_id>")
@require_session
def delete_account(account_id: int):
    warehouse_accounts.delete_account(g.shop.id, account_id)
    return "", 204


@bp.post("/warehouse-accounts/<id:account_id>/discover")
@require_session
def discover(account_id: int):
    discovery = warehouse_accounts.discover(g.shop.id, account_id)
    return jsonify(discovery=discovery,
                   warehouses=[warehouse_json(w) for w in warehouse_settings.list_warehouses(g.shop.id)
                               if w.account_id == account_id])


# -- warehouses --------------------------------------------------------------------------------

@bp.get("/warehouses")
@require_session
def warehouses():
    return jsonify(warehouses=[warehouse_json(w) for w in warehouse_settings.list_warehouses(g.shop.id)])


@bp.patch("/warehouses/<id:warehouse_id>")
@require_session
def update_warehouse(warehouse_id: int):
    warehouse = warehouse_settings.update_warehouse(g.shop.id, warehouse_id, read_json_object(MAX_BODY))
    return jsonify(warehouse=warehouse_json(warehouse))


@bp.get("/warehouses/suggestions")
@require_session
def suggestions():
    return jsonify(suggestions=location_suggestions.suggest_mappings(g.shop.id))


# -- routing rules -----------------------------------------------------------------------------

@bp.get("/routing-rules")
@require_session
def rules():
    return jsonify(rules=[rule_json(r) for r in routing_rules.list_rules(g.shop.id)])


@bp.post("/routing-rules")
@require_session
def create_rule():
    rule, created = routing_rules.create_rule(g.shop.id, read_json_object(MAX_BODY))
    return jsonify(rule=rule_json(rule)), 201 if created else 200


@bp.delete("/routing-rules/<id:rule_id>")
@require_session
def delete_rule(rule_id: int):
    routing_rules.delete_rule(g.shop.id, rule_id)
    return "", 204


# -- settings, alerts, outbound ----------------------------------------------------------------

@bp.get("/settings")
@require_session
def settings():
    return jsonify(settings=settings_json(shop_settings.get_settings(g.shop.id)))


@bp.patch("/settings")
@require_session
def update_settings():
    return jsonify(settings=settings_json(shop_settings.update_settings(g.shop.id, read_json_object(MAX_BODY))))


@bp.get("/alerts")
@require_session
def alerts():
    return jsonify(alerts=[alert_json(a) for a in open_alerts(g.shop.id)])


@bp.get("/outbound")
@require_session
def outbound():
    status = request.args.get("status") or None
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 200:
        raise InvalidError("limit", "must be an integer between 1 and 200")
    rows = overview.recent_outbound(g.shop.id, status[:16] if status else None, limit)
    return jsonify(outbound=[{
        "id": v.outbound.id, "reference": v.outbound.reference, "order": v.order_name,
        "warehouse_id": v.outbound.warehouse_id, "warehouse": v.warehouse_name, "status": v.outbound.status,
        "warehouse_status": v.outbound.warehouse_status, "external_id": v.outbound.external_id,
        "last_error": v.outbound.last_error, "sla_due_at": _iso(v.outbound.sla_due_at), "overdue": v.overdue,
        "pushed_at": _iso(v.outbound.pushed_at), "shipped_at": _iso(v.outbound.shipped_at),
        "created_at": _iso(v.outbound.created_at),
    } for v in rows])
