"""Amazon behind the :class:`~integration.domain.ports.AmazonSeller` port: one seller account's
SP-API client in one marketplace, and the operations of :mod:`connectors.amazon`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

import structlog

from connectors.errors import PermanentError
from integration.domain.channels import (
    CHANNEL_MFN,
    FeedResult,
    FeedSubmission,
    InventoryChange,
    InventorySetResult,
    OrdersPage,
    ShipmentPackage,
)

from . import listings, orders, shipments
from .client import SpApiClient

log = structlog.get_logger(__name__)


class AmazonChannel:
    name: ClassVar[str] = CHANNEL_MFN

    def __init__(self, client: SpApiClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"AmazonChannel({self.client.marketplace_id!r})"

    def set_quantities(self, changes: Sequence[InventoryChange], *, key: str) -> InventorySetResult:
        """One ``patchListingsItem`` per SKU (``inventory_item_id``) in this marketplace (the
        ``location_id``); Amazon has neither compare-and-swap nor idempotency keys, and setting a
        quantity twice is harmless. A SKU Amazon refuses does not hold back the others."""
        applied, refused = [], []
        for change in changes:
            if change.location_id != self.client.marketplace_id:
                raise ValueError(f"{change.location_id} is not this channel's marketplace {self.client.marketplace_id}")
            sku = change.inventory_item_id
            try:
                result = listings.set_quantity(self.client, sku, change.quantity)
            except PermanentError as exc:
                refused.append(change)
                log.warning("amazon.quantity_refused", sku=sku, error=str(exc))
                continue
            if result.accepted:
                applied.append(change)
            else:
                refused.append(change)
                log.warning("amazon.quantity_refused", sku=sku, status=result.status,
                            issues=[f"{i.code}: {i.message}" for i in result.issues if i.severity == "ERROR"])
        return InventorySetResult(applied=tuple(applied), unapplied=tuple(refused))

    def submit_quantity_feeds(self, quantities: Mapping[str, int]) -> list[FeedSubmission]:
        return listings.submit_quantity_feeds(self.client, quantities)

    def wait_for_feed(self, submission: FeedSubmission, *, timeout: float, poll_every: float,
                      sleep: Callable[[float], None]) -> FeedResult:
        return listings.wait_for_feed(self.client, submission, timeout=timeout, poll_every=poll_every, sleep=sleep)

    def poll_orders(self, cursor: str | None, *, since: datetime | None = None,
                    now: Callable[[], datetime] | None = None) -> OrdersPage:
        return orders.poll_orders(self.client, cursor, since=since, marketplace_ids=[self.client.marketplace_id],
                                  now=now)

    def confirm_shipment(self, order_id: str, package: ShipmentPackage) -> None:
        shipments.confirm_shipment(self.client, order_id, package)
