"""The merchant's 3PL accounts: create (credentials verified with the provider, encrypted at
rest), update, delete, and discovery, which imports the warehouses found behind an account.
Provider calls (:func:`~integration.warehouses.credentials.list_sites`) happen before this
session writes anything: a provider call logs itself through a second connection
(``record_call``), which an open SQLite write transaction would block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import structlog
from sqlalchemy import delete, exists, func, select

from integration import signals
from integration.domain.warehousing import WarehouseSite
from integration.extensions import db
from integration.models import Allocation, OutboundOrder, Warehouse, WarehouseAccount
from integration.models.upsert import insert
from integration.warehouses import credential_fields, fba_link
from integration.warehouses.credentials import credentials, endpoint, list_sites
from integration.warehouses.providers import provider_names
from integration.warehouses.setup_validation import (
    COUNTRIES,
    ConflictError,
    InvalidError,
    boolean,
    in_shop,
    only_fields,
    short_text,
)

log = structlog.get_logger(__name__)

ACCOUNT_FIELDS = ("provider", "name", "credentials", "endpoint", "active")
MAX_SITES = 500


def get_account(shop_id: int, account_id: int) -> WarehouseAccount:
    return in_shop(WarehouseAccount, shop_id, account_id, "warehouse account")


def list_accounts(shop_id: int) -> list[tuple[WarehouseAccount, int]]:
    counts = dict(db.session.execute(select(Warehouse.account_id, func.count()).where(
        Warehouse.shop_id == shop_id).group_by(Warehouse.account_id)).all())
    accounts = db.session.execute(select(WarehouseAccount).where(
        WarehouseAccount.shop_id == shop_id).order_by(WarehouseAccount.id)).scalars()
    return [(a, counts.get(a.id, 0)) for a in accounts]


def credential_keys(account: WarehouseAccount) -> list[str]:
    """Which credential keys are set: the only thing about credentials any response carries."""
    return sorted(json.loads(account.credentials))


def create_account(shop_id: int, data: Mapping, *, allow_any_endpoint: bool) -> tuple[WarehouseAccount, dict]:
    """Verify the credentials with the provider (listing its warehouses), then store the account
    and import the warehouses found, in one transaction."""
    only_fields(data, ACCOUNT_FIELDS)
    provider = data.get("provider")
    if provider not in provider_names():
        raise InvalidError("provider", f"must be one of {', '.join(provider_names())}")
    name = short_text(data.get("name"), "name", 255) or provider
    if isinstance(data.get("credentials"), Mapping) and not data["credentials"]:
        credential_fields.check_required(provider, {})  # names the first field the provider needs
    creds = credentials(data.get("credentials"))
    url = endpoint(data.get("endpoint"), provider, allow_any=allow_any_endpoint)
    if provider == fba_link.PROVIDER:
        creds = fba_link.link_credentials(shop_id, creds, url)
    else:
        credential_fields.check_values(provider, creds)
        credential_fields.check_required(provider, creds)
    active = boolean(data.get("active", True), "active")
    sites = list_sites(shop_id, provider, creds, url, account_key=f"new-{shop_id}")
    account = WarehouseAccount(shop_id=shop_id, provider=provider, name=name, credentials=json.dumps(creds),
                               endpoint=url, active=active)
    db.session.add(account)
    db.session.flush()
    result = _import_sites(account, sites)
    signals.warehouse_account_connected(account.id)
    db.session.commit()
    log.info("warehouse_account.created", shop_id=shop_id, account_id=account.id, provider=provider)
    return account, result


def update_account(shop_id: int, account_id: int, data: Mapping, *, allow_any_endpoint: bool) -> WarehouseAccount:
    """``credentials`` merges: given keys are replaced, a key set to null is removed. Changed
    credentials or endpoint are verified with the provider before anything is saved."""
    only_fields(data, ACCOUNT_FIELDS)
    account = get_account(shop_id, account_id)
    if "provider" in data and data["provider"] != account.provider:
        raise InvalidError("provider", "cannot be changed; add a new account instead")
    changes: dict = {}
    if "name" in data:
        changes["name"] = short_text(data["name"], "name", 255, required=True)
    if "active" in data:
        changes["active"] = boolean(data["active"], "active")
    creds = json.loads(account.credentials)
    if "credentials" in data:
        given = data["credentials"]
        if not isinstance(given, Mapping):
            raise InvalidError("credentials", "must be an object")
        merged = {**creds, **{k: v for k, v in given.items() if v is not None}}
        creds = credentials({k: v for k, v in merged.items() if not (k in given and given[k] is None)})
        if account.provider != fba_link.PROVIDER:  # (an FBA link is checked whole below)
            credential_fields.check_values(account.provider, {k: creds[k] for k in given if k in creds})
            credential_fields.check_required(account.provider, creds)
        changes["credentials"] = json.dumps(creds)
    if "endpoint" in data:
        changes["endpoint"] = endpoint(data["endpoint"], account.provider, allow_any=allow_any_endpoint)
    if account.provider == fba_link.PROVIDER and ("credentials" in changes or "endpoint" in changes):
        creds = fba_link.link_credentials(shop_id, creds, changes.get("endpoint", account.endpoint))
        changes["credentials"] = json.dumps(creds)
    if "credentials" in changes or changes.get("endpoint", account.endpoint) != account.endpoint:
        list_sites(shop_id, account.provider, creds, changes.get("endpoint", account.endpoint),
                   account_key=str(account.id))
    if changes.get("active", account.active) != account.active:
        signals.warehouse_settings_changed(shop_id)  # its warehouses route (and promise) or stop
    for key, value in changes.items():
        setattr(account, key, value)
    db.session.commit()
    return account


def delete_account(shop_id: int, account_id: int) -> None:
    """Delete the account and (by cascade) its warehouses, rules and stock rows, unless orders
    used them: deleting would cascade into order history, so such accounts are deactivated instead.
    One conditional DELETE, so an order allocated meanwhile is never silently swept away."""
    account = get_account(shop_id, account_id)
    warehouse_ids = select(Warehouse.id).where(Warehouse.account_id == account.id).scalar_subquery()
    deleted = db.session.execute(delete(WarehouseAccount).where(
        WarehouseAccount.id == account.id, WarehouseAccount.shop_id == shop_id,
        ~exists().where(OutboundOrder.warehouse_id.in_(warehouse_ids)),
        ~exists().where(Allocation.warehouse_id.in_(warehouse_ids)),
    )).rowcount
    if not deleted:
        db.session.rollback()
        raise ConflictError("this account's warehouses have orders; deactivate the account instead",
                            code="account_in_use")
    db.session.commit()
    log.info("warehouse_account.deleted", shop_id=shop_id, account_id=account_id)


def discover(shop_id: int, account_id: int) -> dict:
    """Import the account's warehouses from the provider (new codes are added; the merchant's
    settings on known ones are kept)."""
    account = get_account(shop_id, account_id)
    sites = list_sites(shop_id, account.provider, json.loads(account.credentials), account.endpoint,
                       account=account)
    result = _import_sites(account, sites)
    db.session.commit()
    return result


def _import_sites(account: WarehouseAccount, sites: list[WarehouseSite]) -> dict:
    created, existing, skipped, seen = [], [], [], set()
    for site in sites[:MAX_SITES]:
        code = str(site.code or "").strip()[:64]
        if not code or code in seen:
            skipped.append(code)
            continue
        seen.add(code)
        cc = (site.country_code or "").strip().upper()
        cc = cc if cc in COUNTRIES else ""
        name = str(site.name or code).strip()[:255]
        region = (str(site.region).strip()[:32] or None) if site.region else None
        inserted = db.session.execute(insert(Warehouse).values(
            shop_id=account.shop_id, account_id=account.id, code=code, name=name, country_code=cc, region=region,
            transit_days={}, active=bool(cc),  # no country, no routing: the merchant sets it first
        ).on_conflict_do_nothing(index_elements=["account_id", "code"]).returning(Warehouse.id)).scalar()
        if inserted is not None:  # (not rowcount: psycopg reports -1 for a skipped conflict)
            created.append(code)
            continue
        existing.append(code)
        row = db.session.execute(select(Warehouse).where(Warehouse.account_id == account.id,
                                                         Warehouse.code == code)).scalar_one()
        # Fill what is blank; what the merchant set stays.
        row.name = row.name or name
        row.country_code = row.country_code or cc
        row.region = row.region or region
    known = db.session.execute(select(Warehouse.code).where(Warehouse.account_id == account.id)).scalars()
    missing = sorted(set(known) - seen)
    return {"found": len(seen), "created": created, "existing": existing, "skipped": skipped, "missing": missing}
