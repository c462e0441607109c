"""The guided demo store (development only; opt-in from the start page): the Shopify emulator's
demo store made ready to show what Nearstock is for, through the app's own services:

* the warehouse emulators' WINIT demo account (warehouses in Germany and France) and ShipBob one
  (the United States), connected as the merchant connects them (credentials checked with the
  emulator, warehouses imported), their stock read once, each warehouse mapped to the store's
  location in its country with transit times, so a German order ships from Germany in 2 to 3 days;
* the loyalty program switched on: points for every purchase, double when the parcel ships from
  the customer's own country;
* three past orders, placed in the store's admin as customers in Germany, France and the US would
  place them: each reaches the app as Shopify's signed ``orders/create`` and is routed like any.

Idempotent: running it again changes nothing more. An account of the provider already there is
reused, what the merchant set on a warehouse is kept (only blanks are filled), loyalty already on
stays as set, and each past order is placed once (claimed in Redis before it is placed, and
looked for among the shop's orders).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select

from connectors.errors import ConnectorError
from connectors.http import make_session
from integration.config import Config
from integration.extensions import db, redis
from integration.loyalty import program as loyalty_program
from integration.models import Location, Order, Shop, WarehouseAccount
from integration.shops import installation
from integration.stock import sync as stock_sync
from integration.warehouses import accounts as warehouse_accounts
from integration.warehouses import settings as warehouse_settings
from integration.warehouses.credentials import PROVIDER_LABELS
from integration.warehouses.demo_accounts import demo_account

log = structlog.get_logger(__name__)

PROVIDERS = ("winit", "shipbob")  # Germany and France at WINIT, the United States at ShipBob
DOMESTIC_DAYS, ABROAD_DAYS = [1, 2], [4, 8]  # + one day of handling: "arrives in 2 to 3 days" at home


@dataclass(frozen=True)
class PastOrder:
    key: str
    email: str
    first_name: str
    last_name: str
    country: str
    locale: str
    lines: tuple[tuple[str, int], ...]

    def body(self) -> dict:
        return {"email": self.email, "first_name": self.first_name, "last_name": self.last_name,
                "country": self.country, "locale": self.locale,
                "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in self.lines]}


# The demo store's catalog (sandbox/shopify/__main__.py seeds it): the product page the start page
# links, and the test order it suggests for a German customer.
DEMO_PRODUCT_PATH = "/products/merino-hoodie"
GERMAN_TEST_ORDER = {"sku": "HOODIE-S", "quantity": 1, "country": "DE", "locale": "de",
                     "email": "jonas.weber@example.com"}

PAST_ORDERS = (
    PastOrder("de", "lena.vogel@example.com", "Lena", "Vogel", "DE", "de", (("HOODIE-S", 1),)),
    PastOrder("fr", "camille.martin@example.com", "Camille", "Martin", "FR", "fr", (("BOTTLE-1L", 2),)),
    PastOrder("us", "sam.taylor@example.com", "Sam", "Taylor", "US", "en", (("HOODIE-M", 1),)),
)


class DemoError(Exception):
    """The demo cannot be set up (yet): ``message`` says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def demo_shop(config: Config) -> Shop | None:
    """The emulator's demo store as the app knows it: installed, or None."""
    sandbox = {} if config.is_production else config.shopify_sandbox
    return installation.get_installed(sandbox["shop"]) if sandbox else None


def progress(config: Config) -> dict:
    """What the start page shows: is the demo store installed, its catalog imported, the guided
    demo set up (its accounts connected, loyalty on, its orders placed)?"""
    shop = demo_shop(config)
    if shop is None:
        return {"installed": False, "imported": False, "set_up": False}
    providers = set(db.session.execute(select(WarehouseAccount.provider).where(
        WarehouseAccount.shop_id == shop.id)).scalars())
    placed = _placed_orders(shop)
    return {"installed": True, "imported": _imported(shop.id), "name": shop.name or shop.domain,
            "set_up": set(PROVIDERS) <= providers and loyalty_program.load_rules(shop.id).enabled
            and len(placed) == len(PAST_ORDERS)}


def set_up(config: Config) -> dict:
    """Set the demo store up (or finish setting it up); returns what each step did."""
    shop = demo_shop(config)
    if shop is None:
        raise DemoError(409, "Install Nearstock in the store's admin first (step 1), then try again.")
    if not config.shopify_sandbox.get("admin_url"):
        raise DemoError(409, "The store's admin is not known (SHOPIFY_SANDBOX names no admin_url).")
    if not _imported(shop.id):
        raise DemoError(409, "The store's catalog is still being imported; try again in a few seconds.")
    accounts = {provider: _connect(config, shop, provider) for provider in PROVIDERS}
    mapped = _map_warehouses(shop.id, [account.id for account, _ in accounts.values()])
    loyalty = _switch_loyalty_on(shop.id)
    orders = _place_past_orders(config, shop)
    log.info("demo.set_up", shop=shop.domain, mapped=len(mapped), loyalty=loyalty,
             orders=sum(placed for _, placed in orders))
    return {"accounts": {provider: outcome for provider, (_, outcome) in accounts.items()},
            "mapped": mapped, "loyalty": loyalty,
            "orders": [{"customer": order.email, "country": order.country, "placed": placed}
                       for order, placed in orders]}


def _imported(shop_id: int) -> bool:
    return db.session.execute(select(Location.id).where(Location.shop_id == shop_id).limit(1)).first() is not None


def _connect(config: Config, shop: Shop, provider: str) -> tuple[WarehouseAccount, str]:
    """The shop's account of ``provider``, or the emulator's demo account connected now (checked
    and its warehouses imported by the connect service) with its stock read at once, so the past
    orders find it."""
    existing = db.session.execute(select(WarehouseAccount).where(
        WarehouseAccount.shop_id == shop.id, WarehouseAccount.provider == provider)
        .order_by(WarehouseAccount.id).limit(1)).scalar_one_or_none()
    if existing is not None:
        return existing, "already connected"
    label = PROVIDER_LABELS[provider]
    demo = demo_account(config, provider)
    if demo is None:
        raise DemoError(409, f"The {label} emulator is not running (make run starts it).")
    account, _discovery = warehouse_accounts.create_account(
        shop.id, {"provider": provider, "name": f"{label} demo", "credentials": demo["credentials"]},
        allow_any_endpoint=True)
    stock_sync.poll_inventory(account.id)
    return account, "connected"


def _map_warehouses(shop_id: int, account_ids: list[int]) -> list[dict]:
    """Each of these accounts' warehouses not mapped yet gets the store's location in its country,
    if one is free (one warehouse per location), and transit times if it has none."""
    warehouses = warehouse_settings.list_warehouses(shop_id)
    taken = {w.location_shopify_id for w in warehouses if w.location_shopify_id}
    locations = db.session.execute(select(Location).where(
        Location.shop_id == shop_id, Location.deleted_at.is_(None)).order_by(Location.id)).scalars().all()
    mapped = []
    for warehouse in warehouses:
        if warehouse.account_id not in account_ids or not warehouse.country_code:
            continue
        changes: dict = {}
        if not warehouse.transit_days:
            changes["transit_days"] = {warehouse.country_code: DOMESTIC_DAYS, "*": ABROAD_DAYS}
        location = next((loc for loc in locations if loc.country_code == warehouse.country_code
                         and loc.shopify_id not in taken), None)
        if not warehouse.location_shopify_id and location is not None:
            changes["location_shopify_id"] = location.shopify_id
            taken.add(location.shopify_id)
            mapped.append({"warehouse": warehouse.code, "location": location.name})
        if changes:
            warehouse_settings.update_warehouse(shop_id, warehouse.id, changes)
    return mapped


def _switch_loyalty_on(shop_id: int) -> str:
    if loyalty_program.load_rules(shop_id).enabled:
        return "already on"
    loyalty_program.update_program(shop_id, {"enabled": True, "local_multiplier": "2"})
    db.session.commit()
    return "switched on"


def _placed_orders(shop: Shop) -> set[str]:
    emails = [order.email for order in PAST_ORDERS]
    return set(db.session.execute(select(Order.email).where(Order.shop_id == shop.id, Order.email.in_(emails)))
               .scalars())


def _place_past_orders(config: Config, shop: Shop) -> list[tuple[PastOrder, bool]]:
    """Each past order through the store admin's "place a test order" (the emulator then sends the
    app its webhook): once, whoever presses the button at the same time."""
    url = f"{config.shopify_sandbox['admin_url']}/admin/api/orders"
    arrived = _placed_orders(shop)
    out = []
    with make_session(timeout=(3.0, 10.0)) as session:
        for order in PAST_ORDERS:
            claim = installation.redis_key(shop.domain, "demo-order", order.key)
            if order.email in arrived or not redis.client.set(claim, "1", nx=True):
                out.append((order, False))
                continue
            try:
                response = session.post(url, json=order.body())
                if response.status_code != 201:
                    raise DemoError(502, f"The store's admin refused a past order: HTTP {response.status_code}")
            except (ConnectorError, DemoError) as exc:
                redis.client.delete(claim)  # not placed: the next press places it
                log.warning("demo.order_refused", shop=shop.domain, order=order.key, error=str(exc))
                raise DemoError(502, "The store's admin did not take a past order; try again.") from None
            out.append((order, True))
    return out
