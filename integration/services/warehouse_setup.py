"""Warehouse setup, as the merchant does it in the embedded admin: 3PL accounts (credentials
encrypted at rest and verified against the provider), the warehouses discovered behind them and
their mapping to imported Shopify locations, routing rules and the shop's settings.

Every function takes the shop id from the caller (the session token's shop) and looks every other
id up *within* that shop, so another shop's id is simply "not found". Failures are
:class:`SetupError` subclasses carrying an HTTP status, a machine code and the offending field.

Provider calls happen before this session writes anything: a provider call logs itself through a
second connection (``record_call``), which an open SQLite write transaction would block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urlsplit

import structlog
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError

from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from connectors.warehouses import registry
from integration.domain.warehousing import WarehouseSite
from integration.extensions import db, redis
from integration.models import (
    Allocation,
    Location,
    Order,
    OutboundOrder,
    OutboundState,
    RoutingRule,
    ShopSettings,
    Warehouse,
    WarehouseAccount,
)
from integration.models.base import utcnow
from integration.services.alerts import open_alerts  # noqa: F401 - re-exported for the admin API
from integration.services.providers import provider_for, record_call
from integration.services.upsert import insert

log = structlog.get_logger(__name__)

# ISO 3166-1 alpha-2, plus XK (Kosovo), which Shopify and carriers use.
_ISO_3166 = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY "
    "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
    "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
    "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
    "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
)
COUNTRIES = frozenset(_ISO_3166.split())
CHANNELS = ("shopify", "amazon")
NOTICE_SENDERS = ("nearstock", "shopify")
MAX_ID = 2**63 - 1
MAX_CREDENTIAL_KEYS = 20
MAX_CREDENTIAL_VALUE = 4096
MAX_CREDENTIALS_JSON = 16 * 1024
MAX_SITES = 500
MAX_TRANSIT_ENTRIES = 250
MAX_TRANSIT_DAYS = 365
MAX_UNITS = 1_000_000
_CREDENTIAL_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and newlines allowed (PEM keys)


# For the admin form only (each provider's module docstring is the reference; the provider itself
# is the validation): the keys to offer, required ones first.
PROVIDER_LABELS = {"winit": "WINIT", "goodcang": "Goodcang", "shipbob": "ShipBob"}
CREDENTIAL_HINTS = {
    "winit": ("app_key", "token", "platform", "inbound_product_code", "return_product_code", "client_id",
              "client_secret"),
    "goodcang": ("app_key", "app_token", "product_link", "category_id", "material"),
    "shipbob": ("token", "channel_id", "webhook_secret"),
}


def providers() -> list[dict]:
    return [{"name": n, "label": PROVIDER_LABELS.get(n, n), "credential_keys": list(CREDENTIAL_HINTS.get(n, ()))}
            for n in registry.names()]


class SetupError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.field, self.retry_after = message, field, retry_after
        self.code = code or self.code
        self.status = status or self.status


class NotFoundError(SetupError):
    status, code = 404, "not_found"


class InvalidError(SetupError):
    status, code = 422, "invalid"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}", field=field, code=code)


class ConflictError(SetupError):
    status, code = 409, "conflict"


class ProviderError(SetupError):
    status, code = 502, "provider_unavailable"


# -- field validation ----------------------------------------------------------------------------

def _only(data: Mapping, allowed: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise SetupError("the body must be a JSON object", code="invalid_body")
    for key in data:
        if key not in allowed:
            raise InvalidError(str(key)[:64], f"unknown field; expected one of {', '.join(allowed)}")


def _int(value, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidError(field, "must be an integer")
    if not lo <= value <= hi:
        raise InvalidError(field, f"must be between {lo} and {hi}")
    return value


def _bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidError(field, "must be true or false")
    return value


def _text(value, field: str, max_len: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidError(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidError(field, "must not be empty")
    if len(value) > max_len or _CONTROL.search(value):
        raise InvalidError(field, f"must be at most {max_len} printable characters")
    return value or None


def country(value, field: str = "country_code", *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or value.strip().upper() not in COUNTRIES:
        raise InvalidError(field, "must be an ISO 3166-1 alpha-2 country code such as DE or US")
    return value.strip().upper()


def transit_days(value, field: str = "transit_days") -> dict[str, list[int]]:
    """``{"DE": [1, 3], "*": [5, 10]}``: business days [min, max] per destination, "*" for any other."""
    if not isinstance(value, Mapping):
        raise InvalidError(field, 'must be an object such as {"DE": [1, 3], "*": [5, 10]}')
    if len(value) > MAX_TRANSIT_ENTRIES:
        raise InvalidError(field, f"at most {MAX_TRANSIT_ENTRIES} destinations")
    out: dict[str, list[int]] = {}
    for key, days in value.items():
        dest = "*" if key == "*" else country(key, f"{field}.{str(key)[:8]}")
        where = f"{field}.{dest}"
        if not isinstance(days, list | tuple) or len(days) != 2:
            raise InvalidError(where, "must be [min, max] business days")
        low, high = (_int(d, where, 0, MAX_TRANSIT_DAYS) for d in days)
        if low > high:
            raise InvalidError(where, "min must not exceed max")
        out[dest] = [low, high]
    return out


def credentials(value, field: str = "credentials") -> dict[str, str]:
    """Generic checks only: each provider's own keys are proven by calling it (list_warehouses)."""
    if not isinstance(value, Mapping) or not value:
        raise InvalidError(field, "must be a non-empty object of string values")
    if len(value) > MAX_CREDENTIAL_KEYS:
        raise InvalidError(field, f"at most {MAX_CREDENTIAL_KEYS} keys")
    out = {}
    for key, secret in value.items():
        if not isinstance(key, str) or not _CREDENTIAL_KEY.match(key):
            raise InvalidError(field, "keys are letters, digits, '_', '.' or '-' (at most 64)")
        if not isinstance(secret, str) or not secret.strip():
            raise InvalidError(f"{field}.{key}", "must be a non-empty string")
        if len(secret) > MAX_CREDENTIAL_VALUE:
            raise InvalidError(f"{field}.{key}", f"must be at most {MAX_CREDENTIAL_VALUE} characters")
        out[key] = secret.strip()
    if len(json.dumps(out)) > MAX_CREDENTIALS_JSON:
        raise InvalidError(field, "too large")
    return out


def endpoint(value, provider: str, *, allow_any: bool) -> str | None:
    """An API endpoint override. Outside production any http(s) URL (the sandbox emulators);
    in production only https on the provider's own domain, so an account can never point our
    servers, with its credentials, at an arbitrary host."""
    value = _text(value, "endpoint", 500)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment:
        raise InvalidError("endpoint", "must be an http(s) URL without credentials, query or fragment")
    if allow_any:
        return value.rstrip("/")
    domain = _vendor_domain(urlsplit(_provider_class(provider).default_endpoint or "").hostname or "")
    host = parts.hostname.lower()
    if parts.scheme != "https" or not domain or not (host == domain or host.endswith("." + domain)):
        raise InvalidError("endpoint", f"must be an https URL on {domain or 'the provider domain'}")
    return value.rstrip("/")


def _vendor_domain(default_host: str) -> str:
    """The parent domain of the provider's default host (api.shipbob.com -> shipbob.com,
    openapi.winit.com.cn -> winit.com.cn), never a public suffix such as com.cn."""
    labels = default_host.lower().split(".")
    parent = labels[1:] if len(labels) >= 3 else labels
    if len(parent) < 2 or (len(parent) == 2 and parent[0] in ("com", "net", "org", "co", "gov", "edu", "ac")):
        return default_host.lower()
    return ".".join(parent)


def _provider_class(provider: str):
    try:
        return registry.provider_class(provider)
    except (KeyError, ImportError) as exc:
        raise SetupError(f"the {provider} connector is not available", code="provider_not_available",
                         status=503) from exc


# -- accounts ------------------------------------------------------------------------------------

ACCOUNT_FIELDS = ("provider", "name", "credentials", "endpoint", "active")


def get_account(shop_id: int, account_id: int) -> WarehouseAccount:
    account = db.session.execute(select(WarehouseAccount).where(
        WarehouseAccount.id == account_id, WarehouseAccount.shop_id == shop_id)).scalar_one_or_none() \
        if 0 < account_id <= MAX_ID else None
    if account is None:
        raise NotFoundError("no such warehouse account")
    return account


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
    _only(data, ACCOUNT_FIELDS)
    provider = data.get("provider")
    if provider not in registry.names():
        raise InvalidError("provider", f"must be one of {', '.join(registry.names())}")
    name = _text(data.get("name"), "name", 255) or provider
    creds = credentials(data.get("credentials"))
    url = endpoint(data.get("endpoint"), provider, allow_any=allow_any_endpoint)
    active = _bool(data.get("active", True), "active")
    sites = _list_sites(shop_id, provider, creds, url, account_key=f"new-{shop_id}")
    account = WarehouseAccount(shop_id=shop_id, provider=provider, name=name, credentials=json.dumps(creds),
                               endpoint=url, active=active)
    db.session.add(account)
    db.session.flush()
    result = _import_sites(account, sites)
    db.session.commit()
    log.info("warehouse_account.created", shop_id=shop_id, account_id=account.id, provider=provider)
    return account, result


def update_account(shop_id: int, account_id: int, data: Mapping, *, allow_any_endpoint: bool) -> WarehouseAccount:
    """``credentials`` merges: given keys are replaced, a key set to null is removed. Changed
    credentials or endpoint are verified with the provider before anything is saved."""
    _only(data, ACCOUNT_FIELDS)
    account = get_account(shop_id, account_id)
    if "provider" in data and data["provider"] != account.provider:
        raise InvalidError("provider", "cannot be changed; add a new account instead")
    changes: dict = {}
    if "name" in data:
        changes["name"] = _text(data["name"], "name", 255, required=True)
    if "active" in data:
        changes["active"] = _bool(data["active"], "active")
    creds = json.loads(account.credentials)
    if "credentials" in data:
        given = data["credentials"]
        if not isinstance(given, Mapping):
            raise InvalidError("credentials", "must be an object")
        merged = {**creds, **{k: v for k, v in given.items() if v is not None}}
        creds = credentials({k: v for k, v in merged.items() if not (k in given and given[k] is None)})
        changes["credentials"] = json.dumps(creds)
    if "endpoint" in data:
        changes["endpoint"] = endpoint(data["endpoint"], account.provider, allow_any=allow_any_endpoint)
    if "credentials" in changes or changes.get("endpoint", account.endpoint) != account.endpoint:
        _list_sites(shop_id, account.provider, creds, changes.get("endpoint", account.endpoint),
                    account_key=str(account.id))
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
    sites = _list_sites(shop_id, account.provider, json.loads(account.credentials), account.endpoint,
                        account=account)
    result = _import_sites(account, sites)
    db.session.commit()
    return result


def _list_sites(shop_id: int, provider: str, creds: dict[str, str], url: str | None, *,
                account: WarehouseAccount | None = None, account_key: str = "") -> list[WarehouseSite]:
    _provider_class(provider)  # 503 when the connector is not installed
    label = PROVIDER_LABELS.get(provider, provider)
    connector = None
    try:
        if account is not None:
            connector = provider_for(account)
        else:  # the account is not stored (yet, or with these credentials): same build, explicit values
            connector = registry.build(provider, creds, redis=redis.client, account_key=account_key, endpoint=url,
                                       on_call=lambda record: record_call(shop_id, record))
        return list(connector.list_warehouses())
    except AuthError as exc:
        if connector is None:  # refused when built: a required key is missing or malformed
            raise InvalidError("credentials", f"incomplete for {label}: {_scrub(exc, creds)}",
                               code="credentials_incomplete") from exc
        raise SetupError(f"{label} refused the credentials: {_scrub(exc, creds)}", field="credentials",
                         code="credentials_rejected", status=422) from exc
    except PermanentError as exc:
        raise SetupError(f"{label} rejected the request: {_scrub(exc, creds)}", code="provider_rejected",
                         status=422) from exc
    except RetryableError as exc:
        raise ProviderError(f"could not reach {label}; try again shortly ({_scrub(exc, creds)})",
                            retry_after=exc.retry_after) from exc
    except ConnectorError as exc:
        raise ProviderError(f"{label} failed: {_scrub(exc, creds)}") from exc
    except Exception as exc:  # a connector bug or an unexpected answer: a failure, never a 500
        if connector is None and isinstance(exc, KeyError | TypeError | ValueError):
            raise InvalidError("credentials", f"not accepted by the {label} connector ({type(exc).__name__})",
                               code="credentials_invalid") from exc
        log.exception("warehouse_setup.provider_failed", shop_id=shop_id, provider=provider)
        raise ProviderError(f"{label} gave an answer we could not read ({type(exc).__name__})",
                            code="provider_error") from exc


def _scrub(exc: Exception, creds: Mapping[str, str]) -> str:
    """The connector's message, without any credential value that might have been echoed."""
    message = str(exc)[:300]
    for secret in creds.values():
        if len(secret) >= 4:
            message = message.replace(secret, "***")
    return message


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


# -- warehouses ----------------------------------------------------------------------------------

WAREHOUSE_FIELDS = ("name", "location_shopify_id", "country_code", "region", "handling_hours", "transit_days",
                    "priority", "active")


def get_warehouse(shop_id: int, warehouse_id: int) -> Warehouse:
    found = db.session.execute(select(Warehouse).where(
        Warehouse.id == warehouse_id, Warehouse.shop_id == shop_id)).scalar_one_or_none() \
        if 0 < warehouse_id <= MAX_ID else None
    if found is None:
        raise NotFoundError("no such warehouse")
    return found


def list_warehouses(shop_id: int) -> list[Warehouse]:
    return list(db.session.execute(select(Warehouse).where(Warehouse.shop_id == shop_id)
                                   .order_by(Warehouse.priority, Warehouse.id)).scalars())


def _locations(shop_id: int) -> list[Location]:
    return list(db.session.execute(select(Location).where(
        Location.shop_id == shop_id, Location.deleted_at.is_(None)).order_by(Location.name)).scalars())


def update_warehouse(shop_id: int, warehouse_id: int, data: Mapping) -> Warehouse:
    _only(data, WAREHOUSE_FIELDS)
    warehouse = get_warehouse(shop_id, warehouse_id)
    changes: dict = {}
    if "name" in data:
        changes["name"] = _text(data["name"], "name", 255, required=True)
    if "country_code" in data:
        changes["country_code"] = country(data["country_code"])
    if "region" in data:
        changes["region"] = _text(data["region"], "region", 32)
    if "handling_hours" in data:
        changes["handling_hours"] = _int(data["handling_hours"], "handling_hours", 1, 720)
    if "transit_days" in data:
        changes["transit_days"] = transit_days(data["transit_days"])
    if "priority" in data:
        changes["priority"] = _int(data["priority"], "priority", 0, 1000)
    if "active" in data:
        changes["active"] = _bool(data["active"], "active")
    if changes.get("active", warehouse.active) and changes.get("country_code", warehouse.country_code) == "":
        raise InvalidError("country_code", "set the country this warehouse serves before activating it")
    if "location_shopify_id" in data:
        changes["location_shopify_id"] = _location_for(shop_id, warehouse, data["location_shopify_id"])
    for key, value in changes.items():
        setattr(warehouse, key, value)
    try:
        db.session.commit()
    except IntegrityError:  # mapped concurrently by another request
        db.session.rollback()
        raise ConflictError("location_shopify_id: that location is already mapped to another warehouse",
                            field="location_shopify_id", code="location_taken") from None
    return warehouse


def _location_for(shop_id: int, warehouse: Warehouse, value) -> str | None:
    field = "location_shopify_id"
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        value = f"gid://shopify/Location/{value}"
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidError(field, "must be an imported Shopify location id")
    location = db.session.execute(select(Location).where(
        Location.shop_id == shop_id, Location.shopify_id == value, Location.deleted_at.is_(None))
    ).scalar_one_or_none()
    if location is None:
        raise InvalidError(field, "is not one of this shop's imported Shopify locations", code="unknown_location")
    taken = db.session.execute(select(Warehouse.id).where(
        Warehouse.shop_id == shop_id, Warehouse.location_shopify_id == value, Warehouse.id != warehouse.id)).first()
    if taken:
        raise ConflictError(f"{field}: that location is already mapped to another warehouse", field=field,
                            code="location_taken")
    return value


def _tokens(text: str) -> set[str]:
    noise = {"warehouse", "wh", "fulfillment", "fulfilment", "center", "centre", "fc", "dc", "hub", "the", "and",
             "lager", "entrepot", "almacen", "magazzino", "3pl", "location"}
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t and t not in noise}


def similarity(a: str, b: str) -> float:
    """0..1: the better of token overlap (Jaccard) and character similarity, ignoring filler words."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    jaccard = len(ta & tb) / len(ta | tb)
    chars = SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio()
    return round(max(jaccard, chars), 3)


def suggest_mappings(shop_id: int, limit: int = 3) -> list[dict]:
    """For each unmapped warehouse, the imported Shopify locations that best match it: same
    country first (a location in another country is never suggested), then name similarity."""
    locations = _locations(shop_id)
    warehouses = list_warehouses(shop_id)
    mapped = {w.location_shopify_id for w in warehouses if w.location_shopify_id}
    out = []
    for w in warehouses:
        if w.location_shopify_id:
            continue
        ranked = []
        for loc in locations:
            if loc.shopify_id in mapped:
                continue
            same = bool(w.country_code) and loc.country_code == w.country_code
            if w.country_code and loc.country_code and not same:
                continue
            sim = max(similarity(w.name or "", loc.name or ""), similarity(w.code, loc.name or ""))
            score = round((0.6 if same else 0.0) + 0.4 * sim, 3)
            if same or sim >= 0.5:
                reasons = (["same country"] if same else []) + ([f"similar name ({sim:.0%})"] if sim >= 0.3 else [])
                ranked.append({"location_shopify_id": loc.shopify_id, "name": loc.name,
                               "country_code": loc.country_code, "score": score, "reasons": reasons})
        ranked.sort(key=lambda s: (-s["score"], s["name"]))
        out.append({"warehouse_id": w.id, "code": w.code, "name": w.name, "country_code": w.country_code or None,
                    "suggestions": ranked[:limit]})
    return out


# -- routing rules -------------------------------------------------------------------------------

def list_rules(shop_id: int) -> list[RoutingRule]:
    return list(db.session.execute(select(RoutingRule).where(RoutingRule.shop_id == shop_id)
                                   .order_by(RoutingRule.id)).scalars())


def create_rule(shop_id: int, data: Mapping) -> tuple[RoutingRule, bool]:
    """Never ship ``sku`` (or anything) to ``country_code`` (or anywhere) from the warehouse.
    The same rule twice is one rule: returns (rule, created)."""
    _only(data, ("warehouse_id", "sku", "country_code"))
    warehouse_id = _int(data.get("warehouse_id"), "warehouse_id", 1, MAX_ID)
    sku = _text(data.get("sku"), "sku", 255)
    cc = country(data.get("country_code") or None, required=False)
    if sku is None and cc is None:
        raise InvalidError("sku", "give a sku, a country_code or both")
    try:
        warehouse = get_warehouse(shop_id, warehouse_id)
    except NotFoundError:
        raise InvalidError("warehouse_id", "no such warehouse", code="unknown_warehouse") from None
    same = db.session.execute(select(RoutingRule).where(
        RoutingRule.shop_id == shop_id, RoutingRule.warehouse_id == warehouse.id,
        RoutingRule.sku.is_(None) if sku is None else RoutingRule.sku == sku,
        RoutingRule.country_code.is_(None) if cc is None else RoutingRule.country_code == cc)).scalars().first()
    if same:
        return same, False
    rule = RoutingRule(shop_id=shop_id, warehouse_id=warehouse.id, sku=sku, country_code=cc)
    db.session.add(rule)
    db.session.commit()
    return rule, True


def delete_rule(shop_id: int, rule_id: int) -> None:
    deleted = db.session.execute(delete(RoutingRule).where(
        RoutingRule.id == rule_id, RoutingRule.shop_id == shop_id)).rowcount if 0 < rule_id <= MAX_ID else 0
    if not deleted:
        db.session.rollback()
        raise NotFoundError("no such routing rule")
    db.session.commit()


# -- settings, alerts, outbound --------------------------------------------------------------------

SETTINGS_FIELDS = ("split_orders", "safety_stock", "channel_buffers", "customer_notices_by", "low_stock_threshold")


def get_settings(shop_id: int) -> ShopSettings:
    found = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop_id)).scalar_one_or_none()
    return found or ShopSettings(shop_id=shop_id, split_orders=True, safety_stock=0, channel_buffers={},
                                 customer_notices_by="nearstock", low_stock_threshold=5)


def update_settings(shop_id: int, data: Mapping) -> ShopSettings:
    _only(data, SETTINGS_FIELDS)
    changes: dict = {}
    if "split_orders" in data:
        changes["split_orders"] = _bool(data["split_orders"], "split_orders")
    for field in ("safety_stock", "low_stock_threshold"):
        if field in data:
            changes[field] = _int(data[field], field, 0, MAX_UNITS)
    if "customer_notices_by" in data:
        if data["customer_notices_by"] not in NOTICE_SENDERS:
            raise InvalidError("customer_notices_by", f"must be one of {', '.join(NOTICE_SENDERS)}")
        changes["customer_notices_by"] = data["customer_notices_by"]
    if "channel_buffers" in data:
        buffers = data["channel_buffers"]
        if not isinstance(buffers, Mapping):
            raise InvalidError("channel_buffers", 'must be an object such as {"amazon": 2}')
        for channel in buffers:
            if channel not in CHANNELS:
                raise InvalidError(f"channel_buffers.{str(channel)[:16]}", f"channels are {', '.join(CHANNELS)}")
        changes["channel_buffers"] = {c: _int(v, f"channel_buffers.{c}", 0, MAX_UNITS) for c, v in buffers.items()}
    # Insert-or-get the shop's row, then update it: two first saves never make two rows.
    defaults = get_settings(shop_id)
    db.session.execute(insert(ShopSettings).values(
        shop_id=shop_id, split_orders=defaults.split_orders, safety_stock=defaults.safety_stock,
        channel_buffers=defaults.channel_buffers, customer_notices_by=defaults.customer_notices_by,
        low_stock_threshold=defaults.low_stock_threshold,
    ).on_conflict_do_nothing(index_elements=["shop_id"]))
    row = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop_id)
                             .execution_options(populate_existing=True)).scalar_one()
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()
    return row


OUTBOUND_STATUSES = (OutboundState.PENDING, OutboundState.PUSHED, OutboundState.SHIPPED, OutboundState.DELIVERED,
                     OutboundState.CANCELLED, OutboundState.FAILED)
OPEN_STATUSES = (OutboundState.PENDING, OutboundState.PUSHED)


@dataclass(frozen=True)
class OutboundView:
    outbound: OutboundOrder
    order_name: str
    warehouse_name: str
    overdue: bool


def recent_outbound(shop_id: int, status: str | None = None, limit: int = 50) -> list[OutboundView]:
    """Newest first; ``status`` is one of OUTBOUND_STATUSES, or "open" (not shipped yet)."""
    query = (select(OutboundOrder, Order.name, Order.external_id, Warehouse.name, Warehouse.code)
             .join(Order, Order.id == OutboundOrder.order_id)
             .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
             .where(OutboundOrder.shop_id == shop_id).order_by(OutboundOrder.id.desc()).limit(limit))
    if status == "open":
        query = query.where(OutboundOrder.status.in_(OPEN_STATUSES))
    elif status is not None:
        if status not in OUTBOUND_STATUSES:
            raise InvalidError("status", f"must be open or one of {', '.join(OUTBOUND_STATUSES)}")
        query = query.where(OutboundOrder.status == status)
    now = utcnow()
    return [OutboundView(o, name or external_id, wname or code,
                         o.status in OPEN_STATUSES and o.sla_due_at is not None and o.sla_due_at < now)
            for o, name, external_id, wname, code in db.session.execute(query).all()]
