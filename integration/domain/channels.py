"""What a sales channel hands to services and takes from them: plain frozen dataclasses, never a
vendor's JSON (the ports of :mod:`integration.domain.ports` speak these).

Ids stay the channel's own (``gid://shopify/Location/1``, an Amazon seller SKU or order item id):
services store them as opaque strings next to their own keys. Datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from integration.domain.orders import OrderData

CHANNEL_MFN = "amazon"
"""``Order.channel`` of merchant-fulfilled Amazon orders (ours to ship)."""
CHANNEL_AFN = "amazon_afn"
"""``Order.channel`` of Amazon-fulfilled orders (Amazon ships them from its own stock)."""

# -- every channel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryChange:
    """Set ``quantity`` of a channel's stock item at one of its locations if the channel still holds
    ``change_from``: a Shopify InventoryItem at a Location, an Amazon seller SKU in a marketplace.

    ``change_from=None`` skips the compare-and-swap check (only when we are the source of truth);
    a channel without compare-and-swap (Amazon) sets the quantity whatever it holds.
    """

    inventory_item_id: str
    location_id: str
    quantity: int
    change_from: int | None


@dataclass(frozen=True)
class InventorySetResult:
    applied: tuple[InventoryChange, ...]
    """Changes the channel accepted (Shopify: with the ``change_from`` that finally matched)."""
    unapplied: tuple[InventoryChange, ...]
    """Changes still stale after the bounded retries (Shopify) or refused (Amazon); the next push
    or the reconciliation tries them again."""
    adjustment_group_ids: tuple[str, ...] = ()


# -- Shopify ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackingInfo:
    company: str | None
    number: str | None
    url: str | None = None


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    is_active: bool
    fulfills_online_orders: bool
    ships_inventory: bool
    address1: str | None = None
    city: str | None = None
    zip: str | None = None
    province_code: str | None = None
    country_code: str | None = None


@dataclass(frozen=True)
class Variant:
    product_id: str
    variant_id: str
    sku: str | None
    barcode: str | None
    inventory_item_id: str
    title: str
    product_title: str | None = None


@dataclass(frozen=True)
class InventoryLevel:
    inventory_item_id: str
    location_id: str
    quantities: tuple[tuple[str, int], ...]
    """(name, quantity) pairs for the quantity names that were asked for."""
    is_active: bool = True

    def quantity(self, name: str) -> int | None:
        for key, value in self.quantities:
            if key == name:
                return value
        return None

    @property
    def available(self) -> int | None:
        return self.quantity("available")

    @property
    def on_hand(self) -> int | None:
        return self.quantity("on_hand")


@dataclass(frozen=True)
class MetafieldInput:
    owner_id: str
    key: str
    value: str
    type: str | None = None
    namespace: str | None = None
    compare_digest: str | None = None


@dataclass(frozen=True)
class Metafield:
    id: str
    namespace: str
    key: str
    value: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class FulfillmentOrderLine:
    id: str
    sku: str | None
    inventory_item_id: str | None
    variant_id: str | None
    total_quantity: int
    remaining_quantity: int
    line_item_id: str | None = None


@dataclass(frozen=True)
class FulfillmentOrder:
    id: str
    order_id: str
    status: str
    request_status: str | None
    location_id: str | None
    location_name: str | None
    lines: tuple[FulfillmentOrderLine, ...] = ()


@dataclass(frozen=True)
class Fulfillment:
    id: str
    status: str
    name: str | None = None
    created_at: datetime | None = None
    tracking: tuple[TrackingInfo, ...] = ()


@dataclass(frozen=True)
class FulfillmentEvent:
    id: str
    status: str
    happened_at: datetime | None = None
    message: str | None = None


@dataclass(frozen=True)
class ReturnableLine:
    """A fulfilled line of an order that can still be returned (Shopify's returnable
    fulfillment line items)."""

    fulfillment_line_item_id: str
    line_item_id: str
    sku: str | None
    quantity: int  # units still returnable


@dataclass(frozen=True)
class ReturnLineInput:
    """One line of a return to request: what, how many, and why in the channel's own words."""

    fulfillment_line_item_id: str
    quantity: int
    reason: str  # Shopify's ReturnReason enum value, e.g. "DEFECTIVE", "SIZE_TOO_SMALL", "OTHER"
    customer_note: str | None = None


@dataclass(frozen=True)
class ChannelReturnLine:
    id: str  # gid://shopify/ReturnLineItem/N
    fulfillment_line_item_id: str
    sku: str | None
    quantity: int
    reason: str | None = None
    customer_note: str | None = None


@dataclass(frozen=True)
class ChannelReturn:
    """A return as the channel holds it (Shopify's Return)."""

    id: str  # gid://shopify/Return/N
    order_id: str  # gid://shopify/Order/N
    status: str  # Shopify's ReturnStatus: REQUESTED, OPEN, DECLINED, CLOSED, CANCELED
    name: str | None = None
    lines: tuple[ChannelReturnLine, ...] = ()
    reverse_fulfillment_order_ids: tuple[str, ...] = ()
    # A declined return's ReturnDeclineReason ("FINAL_SALE"...) and the merchant's note.
    decline_reason: str | None = None
    decline_note: str | None = None


@dataclass(frozen=True)
class ProcessedReturn:
    """What processing a return did: the refund it issued (None when nothing was refunded), its
    amount and currency (what the refund_processed notice tells the customer)."""

    return_id: str
    status: str
    refund_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class DiscountCode:
    id: str
    """The DiscountCodeNode id."""
    code: str
    title: str
    kind: str
    """``basic`` (amount or percentage off) or ``free_shipping``."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    applies_once_per_customer: bool = True
    status: str | None = None
    usage_count: int | None = None
    """How often the code was used (``asyncUsageCount``: updated asynchronously by Shopify); None
    when the query that produced this object did not ask."""


@dataclass(frozen=True)
class ShopProfile:
    """What a shop says about itself, shown to its customers in e-mails and pages."""

    name: str
    """Blank when Shopify gave none (then the shop's domain stands in)."""
    currency: str | None = None
    """ISO 4217 code of the shop's currency."""
    email: str | None = None
    """The shop owner's address (Shopify writes to the owner there): where test notices go."""


@dataclass(frozen=True)
class ProductTraffic:
    """Storefront sessions that viewed a product and orders that contained it, in one market over
    a period (Shopify's analytics: the inputs of a conversion rate)."""

    product_id: str
    """``gid://shopify/Product/N``."""
    market: str
    """ISO 3166 alpha-2 code: the visitor's country for sessions, the billing country for orders."""
    sessions: int = 0
    orders: int = 0


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    url: str | None = None
    partial_data_url: str | None = None
    file_size: int | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}


@dataclass(frozen=True)
class VariantStock:
    """One row of a bulk catalog export: a variant with its inventory levels."""

    variant: Variant
    levels: tuple[InventoryLevel, ...] = field(default=())


# -- Amazon ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuIssue:
    sku: str | None
    code: str | None
    message: str
    severity: str  # ERROR, WARNING, INFO
    attribute: str | None = None


@dataclass(frozen=True)
class FeedSubmission:
    """What we must remember about a submitted feed to read its report later (JSON-serialisable)."""

    feed_id: str
    document_id: str
    skus: tuple[str, ...]
    """SKU of message ``i + 1`` (messageIds are 1-based positions)."""

    def as_dict(self) -> dict:
        return {"feed_id": self.feed_id, "document_id": self.document_id, "skus": list(self.skus)}

    @classmethod
    def from_dict(cls, data: Mapping) -> FeedSubmission:
        return cls(str(data["feed_id"]), str(data["document_id"]), tuple(data["skus"]))


@dataclass(frozen=True)
class FeedResult:
    feed_id: str
    status: str  # DONE, FATAL, CANCELLED
    processed: int = 0
    accepted: int = 0
    invalid: int = 0
    errors: dict[str, tuple[SkuIssue, ...]] = field(default_factory=dict)
    """SKU -> its ERROR issues: those quantities were not applied."""
    warnings: dict[str, tuple[SkuIssue, ...]] = field(default_factory=dict)
    feed_issues: tuple[SkuIssue, ...] = ()
    """Issues not tied to a message (feed format problems)."""

    @property
    def ok(self) -> bool:
        return self.status == "DONE" and not self.errors and not self.feed_issues


@dataclass(frozen=True)
class OrdersPage:
    orders: tuple[OrderData, ...]
    cursor: str
    """Store it and pass it to the next poll."""
    has_more: bool
    """True: the window is not finished, poll again now; False: caught up until the next poll."""


@dataclass(frozen=True)
class ShipmentPackage:
    package_reference_id: str
    carrier: str
    """Carrier name as the warehouse reports it ("DHL Paket", "Royal Mail", …)."""
    tracking_number: str
    ship_date: datetime
    items: tuple[tuple[str, int], ...]
    """(Amazon orderItemId, quantity) in this package."""
    shipping_method: str | None = None
    ship_from_supply_source_id: str | None = None
