"""How each of the shop's connections is doing, for the admin home: Shopify, every warehouse
account, every Amazon account.

Everything is read from what the sync already records: ``integration_log`` (one row per call to an
outside system, ``system`` = "shopify", "amazon" or the warehouse provider's name), the polling
cursors in ``sync_cursors`` (stamped at each page a poll stored), the inbox (webhooks received),
``import_runs`` and the open ``alerts``. No call to an outside system is made here: the home page
must open fast, and a dead vendor must not make it slow.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from integration.amazon.channel import orders_stream
from integration.extensions import db
from integration.models import (
    Alert,
    IntegrationLog,
    OutboundOrder,
    Shop,
    SyncCursor,
    Warehouse,
    WarehouseAccount,
    WebhookEvent,
)
from integration.models.amazon import AmazonAccount, AmazonOrder
from integration.models.base import utcnow
from integration.shops.alerts import open_alerts
from integration.stock.sync import inventory_stream

ALERTS_SHOWN = 100  # open alerts read per request; the list itself shows the newest


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _call_json(row: IntegrationLog | None) -> dict | None:
    if row is None:
        return None
    return {"at": _iso(row.created_at), "operation": row.operation, "status": row.status,
            "error": (row.error or "")[:500] or None}


def _last_call(shop_id: int, system: str, *, failed: bool = False) -> IntegrationLog | None:
    query = select(IntegrationLog).where(IntegrationLog.shop_id == shop_id, IntegrationLog.system == system)
    if failed:
        query = query.where(IntegrationLog.status != "ok")
    return db.session.execute(query.order_by(IntegrationLog.id.desc()).limit(1)).scalar_one_or_none()


def _calls(shop_id: int, system: str) -> dict:
    """The last call and the last failed one: ``status`` is "error" when the last call failed."""
    last = _last_call(shop_id, system)
    failed = last if last is not None and last.status != "ok" else _last_call(shop_id, system, failed=True)
    return {"status": "unknown" if last is None else ("ok" if last.status == "ok" else "error"),
            "last_call": _call_json(last), "last_error": _call_json(failed)}


def _cursor_times(shop_id: int, streams: list[str]) -> dict[str, datetime]:
    if not streams:
        return {}
    rows = db.session.execute(select(SyncCursor.stream, SyncCursor.updated_at)
                              .where(SyncCursor.shop_id == shop_id, SyncCursor.stream.in_(streams)))
    return dict(rows.all())


def alert_json(alert: Alert) -> dict:
    return {"id": alert.id, "kind": alert.kind, "subject": alert.subject, "message": alert.message[:500],
            "created_at": _iso(alert.created_at)}


def token_state(shop: Shop, now: datetime | None = None) -> str:
    """"missing", "expired" (and no refresh token left to renew it) or "ok"."""
    now = now or utcnow()
    if not shop.access_token:
        return "missing"
    expires = shop.access_token_expires_at
    if expires is not None and expires <= now:
        refresh_ok = shop.refresh_token and (shop.refresh_token_expires_at is None
                                              or shop.refresh_token_expires_at > now)
        if not refresh_ok:
            return "expired"
    return "ok"


def shopify_health(shop: Shop) -> dict:
    last_webhook = db.session.execute(
        select(WebhookEvent.received_at).where(WebhookEvent.shop_id == shop.id, WebhookEvent.source == "shopify")
        .order_by(WebhookEvent.id.desc()).limit(1)).scalar_one_or_none()
    return {"shop_status": shop.status, "token": token_state(shop), "last_webhook_at": _iso(last_webhook),
            **_calls(shop.id, "shopify")}


def _account_alerts(alerts: list[Alert], account: WarehouseAccount, warehouse_ids: set[int],
                    outbound_warehouse: dict[int, int]) -> list[Alert]:
    """The open alerts about this account: its own subjects, its warehouses', its outbound
    orders', and the unknown values its provider sent."""
    mine = []
    for alert in alerts:
        kind, _, rest = alert.subject.partition(":")
        head = rest.split(":", 1)[0]
        if ((kind == "account" and head == str(account.id))
                or (kind == "warehouse" and head.isdigit() and int(head) in warehouse_ids)
                or (kind == "outbound" and head.isdigit() and outbound_warehouse.get(int(head)) in warehouse_ids)
                or (alert.kind == "warehouse_unknown_value" and kind == account.provider)):
            mine.append(alert)
    return mine


def warehouse_health(shop_id: int, alerts: list[Alert]) -> list[dict]:
    accounts = list(db.session.execute(select(WarehouseAccount).where(WarehouseAccount.shop_id == shop_id)
                                       .order_by(WarehouseAccount.id)).scalars())
    if not accounts:
        return []
    warehouses: dict[int, set[int]] = {a.id: set() for a in accounts}
    for warehouse_id, account_id in db.session.execute(
            select(Warehouse.id, Warehouse.account_id).where(Warehouse.shop_id == shop_id)):
        warehouses[account_id].add(warehouse_id)
    outbound_ids = [int(a.subject.split(":")[1]) for a in alerts
                    if a.subject.startswith("outbound:") and a.subject.split(":")[1].isdigit()]
    outbound_warehouse = dict(db.session.execute(
        select(OutboundOrder.id, OutboundOrder.warehouse_id)
        .where(OutboundOrder.shop_id == shop_id, OutboundOrder.id.in_(outbound_ids))).all()) if outbound_ids else {}
    polled = _cursor_times(shop_id, [inventory_stream(a.id) for a in accounts])
    calls = {provider: _calls(shop_id, provider) for provider in {a.provider for a in accounts}}
    out = []
    for account in accounts:
        mine = _account_alerts(alerts, account, warehouses[account.id], outbound_warehouse)
        out.append({
            "id": account.id, "name": account.name, "provider": account.provider, "active": account.active,
            "warehouses": len(warehouses[account.id]),
            "last_poll_at": _iso(polled.get(inventory_stream(account.id))),
            **calls[account.provider],
            "open_alerts": len(mine), "alerts": [alert_json(a) for a in mine[:5]],
        })
    return out


def amazon_health(shop_id: int, accounts: list[AmazonAccount], alerts: list[Alert]) -> dict[int, dict]:
    """Per account id: its last order import (the orders cursor's stamp), how many orders it
    brought and when the newest arrived, its open alerts; the Amazon calls are shared by the
    accounts."""
    if not accounts:
        return {}
    imported = _cursor_times(shop_id, [orders_stream(a.id) for a in accounts])
    orders = {account_id: (count, newest) for account_id, count, newest in db.session.execute(
        select(AmazonOrder.account_id, func.count(), func.max(AmazonOrder.created_at))
        .where(AmazonOrder.account_id.in_([a.id for a in accounts])).group_by(AmazonOrder.account_id))}
    calls = _calls(shop_id, "amazon")
    out = {}
    for account in accounts:
        mine = [a for a in alerts if a.subject == f"account:{account.id}"]
        count, newest = orders.get(account.id, (0, None))
        out[account.id] = {"last_import_at": _iso(imported.get(orders_stream(account.id))),
                           "orders": count, "last_order_at": _iso(newest), **calls,
                           "open_alerts": len(mine), "alerts": [alert_json(a) for a in mine[:5]]}
    return out


def shop_alerts(shop_id: int) -> list[Alert]:
    """The shop's open alerts, newest first, as many as the home reads."""
    return open_alerts(shop_id, limit=ALERTS_SHOWN)
