"""The seller account behind the emulator: orders, MFN listings, FBA stock, MCF orders, feeds.

Seeded deterministically from ``seed``; tests add their own records with the ``add_*`` / ``set_*``
methods. All mutation happens under the emulator's lock.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from .common import MARKETPLACES, Clock

WORDS = ("Travel", "Mug", "Lamp", "Backpack", "Bottle", "Charger", "Notebook", "Blanket", "Speaker", "Kettle",
         "Candle", "Wallet", "Scarf", "Umbrella", "Headphones", "Planter")
ADJECTIVES = ("Compact", "Classic", "Eco", "Deluxe", "Smart", "Vintage", "Ultra", "Nordic")
FIRST = ("Anna", "Lukas", "Marie", "Jonas", "Sophie", "Oliver", "Emma", "Noah", "Chloe", "Luca", "Yuki", "Carlos")
LAST = ("Muller", "Schmidt", "Dubois", "Rossi", "Garcia", "Smith", "Jones", "Tanaka", "Silva", "Novak")
STREETS = ("Hauptstrasse", "Rue de la Paix", "High Street", "Via Roma", "Calle Mayor", "Main Street", "Kerkstraat")
CITIES = {"DE": [("Berlin", "10115", "Berlin"), ("Hamburg", "20095", "Hamburg"), ("Munchen", "80331", "Bayern")],
          "FR": [("Paris", "75001", "Ile-de-France"), ("Lyon", "69001", "Rhone")],
          "GB": [("London", "SW1A 1AA", "England"), ("Leeds", "LS1 1AA", "England")],
          "IT": [("Roma", "00184", "RM"), ("Milano", "20121", "MI")], "ES": [("Madrid", "28013", "Madrid")],
          "US": [("Seattle", "98101", "WA"), ("Austin", "78701", "TX"), ("Boston", "02108", "MA")],
          "JP": [("Tokyo", "150-0002", "Tokyo")]}
MFN_STATUSES = (("UNSHIPPED", 40), ("SHIPPED", 25), ("PENDING", 10), ("CANCELLED", 10), ("PARTIALLY_SHIPPED", 8),
                ("PENDING_AVAILABILITY", 3))
AFN_STATUSES = (("SHIPPED", 60), ("PENDING", 10), ("UNSHIPPED", 10), ("CANCELLED", 10), ("UNFULFILLABLE", 10))


@dataclass
class OrderItem:
    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    unit_price: Decimal
    shipped: int = 0


@dataclass
class Order:
    order_id: str
    marketplace_id: str
    created: datetime
    updated: datetime
    status: str  # 2026-01-01 FulfillmentStatus
    fulfilled_by: str  # MERCHANT / AMAZON
    items: list[OrderItem]
    buyer_name: str
    buyer_email: str
    address: dict  # CustomerAddress shape
    service_level: str = "STANDARD"
    packages: list[dict] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return MARKETPLACES[self.marketplace_id][1]


@dataclass
class Listing:
    sku: str
    marketplace_id: str
    product_type: str
    asin: str
    title: str
    quantity: int | None
    updated: datetime


@dataclass
class FbaStock:
    sku: str
    marketplace_id: str
    asin: str
    fnsku: str
    title: str
    fulfillable: int
    reserved: int = 0
    inbound_working: int = 0
    inbound_shipped: int = 0
    inbound_receiving: int = 0
    unfulfillable: int = 0
    updated: datetime | None = None


@dataclass
class McfOrder:
    request: dict
    marketplace_id: str
    received: datetime
    status: str
    status_updated: datetime
    scenario: str = "delivered"
    stage: int = 0  # lifecycle steps already applied (see fba_api.LIFECYCLE)
    shipment_id: str | None = None
    package_number: int | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    shipped_at: datetime | None = None


@dataclass
class Document:
    document_id: str
    content_type: str
    created: datetime
    content: bytes | None = None
    compression: str | None = None


@dataclass
class Feed:
    feed_id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    created: datetime
    status: str = "IN_QUEUE"
    started: datetime | None = None
    ended: datetime | None = None
    result_document_id: str | None = None


class SellerState:
    def __init__(self, clock: Clock, seller_id: str, marketplaces: list[str], seed: int | None) -> None:
        unknown = [m for m in marketplaces if m not in MARKETPLACES]
        if unknown:
            raise ValueError(f"unknown marketplace {unknown[0]}")
        self.clock, self.seller_id, self.marketplaces = clock, seller_id, list(marketplaces)
        self.rng = random.Random(seed)
        self.orders: dict[str, Order] = {}
        self.listings: dict[tuple[str, str], Listing] = {}
        self.stock: dict[tuple[str, str], FbaStock] = {}
        self.mcf: dict[str, McfOrder] = {}
        self.documents: dict[str, Document] = {}
        self.feeds: dict[str, Feed] = {}
        self.catalog: dict[str, tuple[str, str, Decimal]] = {}  # sku -> (asin, title, price)
        self.page_tokens: dict[str, tuple] = {}  # searchOrders paginationToken -> (query hash, last key, expiry)
        self.inventory_tokens: dict[str, tuple] = {}  # getInventorySummaries nextToken -> (query hash, offset, expiry)
        self.package_numbers: dict[int, str] = {}  # MCF package number -> sellerFulfillmentOrderId
        self._sequence = 0

    def next_id(self) -> int:
        self._sequence += 1
        return self._sequence

    # -- catalog, listings, stock ----------------------------------------------------------------

    def product(self, sku: str) -> tuple[str, str, Decimal]:
        if sku not in self.catalog:
            asin = "B0" + "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=8))
            title = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(WORDS)}"
            self.catalog[sku] = (asin, title, Decimal(self.rng.randrange(799, 8999)) / 100)
        return self.catalog[sku]

    def add_listing(self, sku: str, quantity: int | None = 0, *, marketplace_id: str | None = None,
                    product_type: str = "HOME") -> Listing:
        asin, title, _ = self.product(sku)
        listing = Listing(sku, marketplace_id or self.marketplaces[0], product_type, asin, title, quantity,
                          self.clock.now())
        self.listings[(sku, listing.marketplace_id)] = listing
        return listing

    def listing_quantity(self, sku: str, marketplace_id: str | None = None) -> int | None:
        listing = self.listings.get((sku, marketplace_id or self.marketplaces[0]))
        return listing.quantity if listing else None

    def set_fba_stock(self, sku: str, fulfillable: int, *, marketplace_id: str | None = None, **quantities) -> FbaStock:
        marketplace_id = marketplace_id or self.marketplaces[0]
        asin, title, _ = self.product(sku)
        stock = self.stock.get((sku, marketplace_id)) or FbaStock(
            sku, marketplace_id, asin, "X00" + "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=7)),
            title, 0)
        stock.fulfillable = fulfillable
        for name, value in quantities.items():
            setattr(stock, name, value)
        stock.updated = self.clock.now()
        self.stock[(sku, marketplace_id)] = stock
        return stock

    # -- orders ----------------------------------------------------------------------------------

    def add_order(self, items: list[tuple[str, int]], *, marketplace_id: str | None = None,
                  fulfilled_by: str = "MERCHANT", status: str = "UNSHIPPED", created: datetime | None = None,
                  address: dict | None = None, buyer_name: str | None = None) -> Order:
        marketplace_id = marketplace_id or self.marketplaces[0]
        country = MARKETPLACES[marketplace_id][0]
        created = created or self.clock.now() - timedelta(minutes=10)
        order_id = f"{self.rng.randint(100, 999)}-{self.rng.randint(0, 9999999):07d}-{self.rng.randint(0, 9999999):07d}"
        name = buyer_name or f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        city, postal, state = self.rng.choice(CITIES.get(country, CITIES["US"]))
        address = address or {
            "name": name, "addressLine1": f"{self.rng.choice(STREETS)} {self.rng.randint(1, 180)}", "city": city,
            "stateOrRegion": state, "postalCode": postal, "countryCode": country,
            "phone": f"+{self.rng.randint(10, 99)} {self.rng.randint(100000000, 999999999)}",
            "addressType": "RESIDENTIAL"}
        order_items = []
        for sku, quantity in items:
            asin, title, price = self.product(sku)
            order_items.append(OrderItem(f"{self.rng.randint(10**13, 10**14 - 1)}", sku, asin, title, quantity, price))
        order = Order(order_id, marketplace_id, created, created, status, fulfilled_by, order_items, name,
                      f"{''.join(self.rng.choices(string.ascii_lowercase + string.digits, k=15))}"
                      f"@marketplace.{MARKETPLACES[marketplace_id][2].lower()}", address)
        if status in ("SHIPPED",):
            for item in order.items:
                item.shipped = item.quantity
        self.orders[order_id] = order
        return order

    def set_order_status(self, order_id: str, status: str) -> Order:
        order = self.orders[order_id]
        order.status = status
        order.updated = max(self.clock.now(), order.updated + timedelta(seconds=1))
        return order

    # -- seeding ---------------------------------------------------------------------------------

    def seed(self, *, orders: int, skus: int) -> None:
        now = self.clock.now()
        sku_names = [f"NS-{i:04d}" for i in range(1, skus + 1)]
        for sku in sku_names:
            for marketplace_id in self.marketplaces:
                listing = self.add_listing(sku, self.rng.randint(0, 50), marketplace_id=marketplace_id,
                                           product_type=self.rng.choice(("HOME", "LUGGAGE", "KITCHEN")))
                listing.updated = now - timedelta(days=self.rng.uniform(1, 60))
                stock = self.set_fba_stock(
                    sku, self.rng.randint(0, 120), marketplace_id=marketplace_id, reserved=self.rng.randint(0, 5),
                    inbound_working=self.rng.randint(0, 20), inbound_shipped=self.rng.randint(0, 10),
                    unfulfillable=self.rng.randint(0, 2))
                stock.updated = now - timedelta(days=self.rng.uniform(0, 30))
        if not sku_names:
            return
        for _ in range(orders):
            fulfilled_by = "AMAZON" if self.rng.random() < 0.3 else "MERCHANT"
            table = AFN_STATUSES if fulfilled_by == "AMAZON" else MFN_STATUSES
            status = self.rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]
            chosen = self.rng.sample(sku_names, self.rng.randint(1, min(3, skus)))
            lines = [(sku, self.rng.randint(1, 3)) for sku in chosen]
            created = now - timedelta(hours=self.rng.uniform(3, 24 * 7))
            order = self.add_order(lines, marketplace_id=self.rng.choice(self.marketplaces), fulfilled_by=fulfilled_by,
                                   status=status, created=created)
            order.updated = min(now - timedelta(minutes=5), created + timedelta(hours=self.rng.uniform(0, 48)))
            if status == "PARTIALLY_SHIPPED":
                first = order.items[0]
                if len(order.items) > 1 or first.quantity > 1:
                    first.shipped = first.quantity if len(order.items) > 1 else 1
                else:
                    order.status = "UNSHIPPED"
