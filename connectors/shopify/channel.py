"""Shopify behind the :class:`~integration.domain.ports.ShopifyStore` port: one installed shop's
Admin GraphQL client and the operations of :mod:`connectors.shopify.operations`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from connectors.shopify import operations
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import (
    BulkOperation,
    ChannelReturn,
    DiscountCode,
    Fulfillment,
    FulfillmentEvent,
    FulfillmentOrder,
    InventoryChange,
    InventorySetResult,
    Location,
    Metafield,
    MetafieldInput,
    ProcessedReturn,
    ProductTraffic,
    ReturnableLine,
    ReturnLineInput,
    ShopProfile,
    TrackingInfo,
    VariantStock,
)

# The quantity Nearstock owns at a location, and why it changes: we correct Shopify's count to what
# the warehouses can sell.
QUANTITY_NAME = "available"
REASON = "correction"


class ShopifyChannel:
    """Calls go through the ``operations`` namespace (not the per-object modules): an operation is
    looked up at call time, so one replaced there (a test simulating a crash) is the one used."""

    name: ClassVar[str] = "shopify"

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"ShopifyChannel({self.client.shop!r})"

    def set_quantities(self, changes: Sequence[InventoryChange], *, key: str) -> InventorySetResult:
        return operations.set_inventory(self.client, QUANTITY_NAME, REASON, changes, key)

    def get_shop_profile(self) -> ShopProfile:
        return operations.get_shop_profile(self.client)

    def iter_locations(self) -> Iterator[Location]:
        return operations.iter_locations(self.client)

    def run_variant_stock_export(self) -> BulkOperation:
        return operations.run_variant_stock_export(self.client)

    def get_bulk_operation(self, operation_id: str) -> BulkOperation | None:
        return operations.get_bulk_operation(self.client, operation_id)

    def iter_variant_stock(self, url: str) -> Iterator[VariantStock]:
        return operations.iter_variant_stock(url)

    def set_metafields(self, metafields: Sequence[MetafieldInput]) -> list[Metafield]:
        return operations.set_metafields(self.client, metafields)

    def get_discount_code(self, code: str) -> DiscountCode | None:
        return operations.get_discount_code(self.client, code)

    def create_basic_discount_code(
        self, *, code: str, title: str, customer_id: str, starts_at: datetime, ends_at: datetime | None,
        percentage: float | None = None, amount: Decimal | None = None, usage_limit: int = 1,
    ) -> DiscountCode:
        return operations.create_basic_discount_code(
            self.client, code=code, title=title, customer_id=customer_id, starts_at=starts_at, ends_at=ends_at,
            percentage=percentage, amount=amount, usage_limit=usage_limit)

    def create_free_shipping_code(
        self, *, code: str, title: str, customer_id: str, starts_at: datetime, ends_at: datetime | None,
    ) -> DiscountCode:
        return operations.create_free_shipping_code(self.client, code=code, title=title, customer_id=customer_id,
                                                    starts_at=starts_at, ends_at=ends_at)

    def get_fulfillment_orders(self, order_id: str) -> list[FulfillmentOrder]:
        return operations.get_fulfillment_orders(self.client, order_id)

    def find_fulfillment_by_tracking(self, order_id: str, tracking_number: str) -> Fulfillment | None:
        return operations.find_fulfillment_by_tracking(self.client, order_id, tracking_number)

    def create_fulfillment(
        self, line_items_by_fulfillment_order: Mapping[str, Sequence[tuple[str, int]]], *,
        tracking: TrackingInfo | None = None, notify_customer: bool = False,
    ) -> Fulfillment:
        return operations.create_fulfillment(self.client, line_items_by_fulfillment_order, tracking=tracking,
                                             notify_customer=notify_customer)

    def get_fulfillment_events(self, fulfillment_id: str) -> list[FulfillmentEvent]:
        return operations.get_fulfillment_events(self.client, fulfillment_id)

    def create_fulfillment_event(
        self, fulfillment_id: str, status: str, *, happened_at: datetime | None = None, message: str | None = None,
    ) -> FulfillmentEvent:
        return operations.create_fulfillment_event(self.client, fulfillment_id, status, happened_at=happened_at,
                                                   message=message)

    # -- returns (connectors/shopify/returns.py) --
    def get_returnable_lines(self, order_id: str) -> list[ReturnableLine]:
        return operations.get_returnable_lines(self.client, order_id)

    def request_return(self, order_id: str, lines: Sequence[ReturnLineInput]) -> ChannelReturn:
        return operations.request_return(self.client, order_id, lines)

    def approve_return(self, return_id: str) -> ChannelReturn:
        return operations.approve_return(self.client, return_id)

    def decline_return(self, return_id: str, reason: str, note: str | None = None) -> ChannelReturn:
        return operations.decline_return(self.client, return_id, reason, note)

    def get_return(self, return_id: str) -> ChannelReturn:
        return operations.get_return(self.client, return_id)

    def create_reverse_delivery(self, reverse_fulfillment_order_id: str, *, tracking_number: str | None,
                                tracking_url: str | None, label_url: str | None) -> str:
        return operations.create_reverse_delivery(self.client, reverse_fulfillment_order_id,
                                                  tracking_number=tracking_number, tracking_url=tracking_url,
                                                  label_url=label_url)

    def process_return(self, return_id: str, lines: Sequence[tuple[str, int]], *, refund: bool,
                       key: str) -> ProcessedReturn:
        return operations.process_return(self.client, return_id, lines, refund=refund, key=key)

    def get_product_traffic(self, since: date, until: date) -> list[ProductTraffic]:
        return operations.get_product_traffic(self.client, since, until)
