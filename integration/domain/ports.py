"""The ports connectors implement. Services depend on these, never on a vendor module.

Errors are those of :mod:`connectors.errors` by contract (RetryableError, PermanentError,
AuthError); a port method never returns a vendor dict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from integration.domain.warehousing import (
    Capability,
    InboundRequest,
    InboundShipment,
    Outbound,
    OutboundRequest,
    ReturnAuthorization,
    ReturnRequest,
    SkuSpec,
    StockPage,
    StockRecord,
    TrackingEvent,
    WarehouseEvent,
    WarehouseSite,
)


@runtime_checkable
class WarehouseProvider(Protocol):
    """One provider account (credentials of one merchant at one 3PL)."""

    name: ClassVar[str]  # registry key: "winit", "goodcang", "shipbob"
    capabilities: ClassVar[frozenset[Capability]]

    def list_warehouses(self) -> list[WarehouseSite]: ...

    def upsert_sku(self, spec: SkuSpec) -> None: ...

    def create_outbound(self, request: OutboundRequest) -> Outbound:
        """Create the outbound order, or return the one already created under
        ``request.reference`` (a retry never creates a second one)."""
        ...

    def cancel_outbound(self, reference: str) -> Outbound: ...

    def get_outbound(self, reference: str) -> Outbound: ...

    def get_inventory(
        self, warehouse_code: str | None = None, skus: Sequence[str] | None = None
    ) -> list[StockRecord]: ...

    def inventory_changes(self, cursor: str | None) -> StockPage:
        """Stock records changed since ``cursor`` (None: from the beginning), one page."""
        ...

    def create_inbound(self, request: InboundRequest) -> InboundShipment: ...

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization: ...

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        """Carrier events of the outbound ``reference``, normalised to the domain taxonomy."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        """Verify the signature on the raw bytes (constant time) and parse; raises
        PermanentError for a bad signature or shape. Providers without webhooks raise too."""
        ...
