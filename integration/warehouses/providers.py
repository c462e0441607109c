"""Builds the warehouse provider connectors (the one place that picks one from the registry),
logging every call and alerting the merchant once per vendor value the connector does not know."""

from __future__ import annotations

import json

from flask import current_app

from connectors.warehouses import registry
from connectors.warehouses.base import UnknownValue
from integration.call_log import record_call
from integration.domain.ports import WarehouseProvider
from integration.extensions import db, redis
from integration.models import Warehouse, WarehouseAccount
from integration.shops.alerts import raise_alert
from integration.warehouses import fba_link
from integration.warehouses.demo_accounts import sandbox_endpoint


def provider_names() -> list[str]:
    return registry.names()


def provider_class(name: str) -> type:
    """The connector class of ``name``: KeyError for an unknown name, ImportError when its module
    cannot be loaded."""
    return registry.provider_class(name)


def build_provider(shop_id: int, provider: str, credentials: dict[str, str], *, account_key: str,
                   endpoint: str | None) -> WarehouseProvider:
    """A connector for these credentials, stored or not (the setup checks them before storing).
    An FBA account linked to an Amazon account gets that account's credentials and endpoint; an
    account without an endpoint reaches its provider's emulator when one runs (development)."""
    if provider == fba_link.PROVIDER and fba_link.LINK_KEY in credentials:
        credentials, endpoint = fba_link.resolve(shop_id, credentials)
    endpoint = endpoint or sandbox_endpoint(current_app.config["NEARSTOCK"], provider)
    return registry.build(
        provider, credentials, redis=redis.client, account_key=account_key, endpoint=endpoint,
        on_call=lambda record: record_call(shop_id, record),
        on_unknown=lambda unknown: report_unknown(shop_id, unknown),
    )


def provider_for(account: WarehouseAccount) -> WarehouseProvider:
    return build_provider(account.shop_id, account.provider, json.loads(account.credentials),
                          account_key=str(account.id), endpoint=account.endpoint or None)


def provider_for_warehouse(warehouse: Warehouse) -> WarehouseProvider:
    return provider_for(db.session.get(WarehouseAccount, warehouse.account_id))


def report_unknown(shop_id: int, unknown: UnknownValue) -> None:
    """One open alert per unknown (provider, field, value): a new vendor code is looked at by a
    person, while the connector has already read it the safe way. Recorded in the caller's
    transaction; a job that rolls back raises it again on its next run."""
    subject = f"{unknown.system}:{unknown.field}:{unknown.value}"[:128]
    raise_alert(shop_id, "warehouse_unknown_value", subject,
                f"{unknown.system} sent {unknown.field} = {unknown.value!r}, which Nearstock does not know"
                + (f" (for {unknown.context})" if unknown.context else "")
                + "; it was read conservatively. Please tell support so the mapping can be added.",
                {"system": unknown.system, "field": unknown.field, "value": unknown.value, "context": unknown.context})
