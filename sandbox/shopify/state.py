"""In-memory shop data for the Shopify emulator.

Records are plain dicts whose public keys are the GraphQL field names (so graphql-core's default
resolver serves scalars straight from them); keys starting with ``_`` are internal links. Every
record has ``__typename`` so interfaces (``Node``) and unions resolve without extra code. All
access happens under :attr:`Store.lock`, held by the emulator for the whole of each request.
"""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, datetime, timedelta

# Inventory quantity names, see
# https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps/manage-quantities-states
ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control")
QUANTITY_NAMES = (*ON_HAND_PARTS, "on_hand", "incoming")

GID_RE = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<id>\d+)(?:\?(?P<query>.*))?$")


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def later_iso(previous: str | None, not_before: str | None = None) -> str:
    """Now, or one second after ``previous`` (and no earlier than ``not_before``) if that is later.

    Shopify's timestamps have one-second resolution, and apps keep a copy only when its
    ``updated_at`` is strictly newer: two changes within a second must still get two stamps."""
    stamp = datetime.now(UTC).replace(microsecond=0)
    if previous:
        stamp = max(stamp, parse_iso(previous) + timedelta(seconds=1))
    if not_before:
        stamp = max(stamp, parse_iso(not_before))
    return stamp.isoformat().replace("+00:00", "Z")


def gid(type_name: str, number: int) -> str:
    return f"gid://shopify/{type_name}/{number}"


def parse_gid(value: str | None) -> tuple[str, int] | None:
    match = GID_RE.match(value or "")
    return (match["type"], int(match["id"])) if match else None


def legacy_id(value: str) -> int:
    parsed = parse_gid(value)
    return parsed[1] if parsed else 0


def level_gid(location_gid: str, item_gid: str) -> str:
    # The real format: gid://shopify/InventoryLevel/{location id}?inventory_item_id={item id}
    return f"gid://shopify/InventoryLevel/{legacy_id(location_gid)}?inventory_item_id={legacy_id(item_gid)}"


class Store:
    """All shops of one emulator, plus the id sequence they share (ids never repeat across types,
    so a client that mixes up a variant id and an inventory item id gets "not found")."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.shops: dict[str, Shop] = {}

    def next_id(self) -> int:
        return next(self._ids)

    def continue_ids_from(self, first: int) -> None:
        """Number what is created from now on from ``first`` (never backwards). A long-running
        emulator seeds its demo catalog with the same ids every start, so an app that kept its
        database across a restart still finds them; what the run creates after that (orders,
        fulfillments…) is numbered from the start time, so it never reuses an id the app already
        holds for something else."""
        with self.lock:
            current = next(self._ids)
            self._ids = itertools.count(max(current, first))


class Shop:
    def __init__(self, store: Store, domain: str, *, currency: str, country: str, name: str) -> None:
        self.store = store
        self.domain = domain
        self.country = country
        stamp = now_iso()
        self.record = {
            "__typename": "Shop", "id": gid("Shop", store.next_id()), "name": name,
            "email": f"owner@{domain}", "contactEmail": f"support@{domain}",
            "myshopifyDomain": domain, "currencyCode": currency, "ianaTimezone": "Europe/Berlin",
            "createdAt": stamp, "updatedAt": stamp, "url": f"https://{domain}",
        }
        self.nodes: dict[str, dict] = {self.record["id"]: self.record}  # every record by gid
        self.locations: list[str] = []
        self.products: list[str] = []
        self.variants: list[str] = []
        self.orders: list[str] = []
        self.customers: dict[str, str] = {}  # lower-cased email -> Customer gid
        self.order_seq = itertools.count(1001)
        self.metafields: dict[tuple[str, str, str], dict] = {}
        self.discount_codes: dict[str, str] = {}  # lower-cased code -> DiscountCodeNode gid
        self.webhook_subscriptions: list[str] = []
        self.bulk_operations: list[str] = []
        self.idempotency: dict[tuple[str, str], tuple[str, dict]] = {}
        self.fulfillment_log: list[dict] = []
        self.fulfillment_event_log: list[dict] = []
        self.product_sessions: dict[tuple, int] = {}  # (day, product gid, country code) -> sessions

    # -- records -----------------------------------------------------------------------------

    def new(self, type_name: str, **fields) -> dict:
        number = self.store.next_id()
        stamp = now_iso()
        record = {"__typename": type_name, "id": gid(type_name, number),
                  "legacyResourceId": str(number), "createdAt": stamp, "updatedAt": stamp}
        record.update(fields)
        self.nodes[record["id"]] = record
        return record

    def touch(self, record: dict, *, not_before: str | None = None) -> str:
        """Marks ``record`` changed: its ``updatedAt`` moves strictly forward (see :func:`later_iso`)."""
        record["updatedAt"] = later_iso(record.get("updatedAt"), not_before)
        return record["updatedAt"]

    def get(self, node_id: str | None, type_name: str | None = None) -> dict | None:
        if not node_id:
            return None
        if node_id.startswith("gid://shopify/InventoryLevel/"):
            return self.level_by_gid(node_id) if type_name in (None, "InventoryLevel") else None
        record = self.nodes.get(node_id)
        if record is None or (type_name and record["__typename"] != type_name):
            return None
        return record

    # -- inventory ---------------------------------------------------------------------------

    def level(self, item: dict, location_gid: str) -> dict | None:
        return item["_levels"].get(location_gid)

    def stock(self, item: dict, location_gid: str, available: int) -> dict:
        stamp = now_iso()
        quantities = dict.fromkeys(QUANTITY_NAMES, 0)
        quantities["available"] = quantities["on_hand"] = available
        level = {"__typename": "InventoryLevel", "id": level_gid(location_gid, item["id"]),
                 "isActive": True, "createdAt": stamp, "updatedAt": stamp,
                 "_item": item["id"], "_location": location_gid, "_q": quantities}
        item["_levels"][location_gid] = level
        return level

    def level_by_gid(self, level_id: str) -> dict | None:
        match = GID_RE.match(level_id)
        if not match or not match["query"] or not match["query"].startswith("inventory_item_id="):
            return None
        item = self.nodes.get(gid("InventoryItem", int(match["query"].split("=", 1)[1] or 0)))
        location = gid("Location", int(match["id"]))
        return item["_levels"].get(location) if item else None

    def change_quantity(self, level: dict, name: str, delta: int, *, touch: bool = True) -> None:
        """Moves one quantity and keeps ``on_hand`` the sum of its parts (and vice versa)."""
        q = level["_q"]
        q[name] += delta
        if name in ON_HAND_PARTS:
            q["on_hand"] += delta
        elif name == "on_hand":
            q["available"] += delta
        if touch:
            self.touch(level)

    def move_quantity(self, level: dict, source: str, target: str, quantity: int) -> None:
        """``quantity`` units from one state to another (available -> committed…): one change."""
        self.change_quantity(level, source, -quantity, touch=False)
        self.change_quantity(level, target, quantity)

    def item_available(self, item: dict) -> int:
        return sum(level["_q"]["available"] for level in item["_levels"].values())

    # -- metafields --------------------------------------------------------------------------

    def metafields_of(self, owner_id: str) -> list[dict]:
        return [m for (owner, _, _), m in self.metafields.items() if owner == owner_id]
