"""What the warehouse side of the domain talks about, whichever 3PL is behind it.

Plain frozen dataclasses: provider connectors (WINIT, Goodcang, ShipBob, …) build them from their
vendor payloads; services never see a vendor dict. Quantities are whole units; datetimes are
timezone-aware UTC (providers that answer in local time, e.g. Goodcang's Beijing time, convert).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from integration.domain.orders import Address


class Capability(enum.Enum):
    """What a provider can do, so services choose push or poll per provider."""

    PUSH_INVENTORY = "push_inventory"  # sends inventory change webhooks
    PUSH_SHIPMENTS = "push_shipments"  # sends shipped / tracking webhooks
    INVENTORY_CURSOR = "inventory_cursor"  # can list inventory changed since a cursor
    INBOUND = "inbound"  # accepts advance shipping notices
    CANCEL_INBOUND = "cancel_inbound"  # an announced inbound shipment can be withdrawn
    RETURNS = "returns"  # accepts return authorisations


class OutboundStatus(enum.Enum):
    RECEIVED = "received"  # accepted by the warehouse, not yet worked on
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"  # handed to the carrier: packages carry tracking numbers
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXCEPTION = "exception"  # the warehouse cannot proceed (address, stock, hold)


class TrackingStatus(enum.Enum):
    """The one taxonomy every carrier's events are normalised to (AfterShip-style tags)."""

    PENDING = "Pending"
    INFO_RECEIVED = "InfoReceived"
    IN_TRANSIT = "InTransit"
    OUT_FOR_DELIVERY = "OutForDelivery"
    ATTEMPT_FAIL = "AttemptFail"
    DELIVERED = "Delivered"
    AVAILABLE_FOR_PICKUP = "AvailableForPickup"
    EXCEPTION = "Exception"
    EXPIRED = "Expired"


class ExceptionReason(enum.Enum):
    CUSTOMS_DELAY = "customs_delay"
    DELIVERY_DELAY = "delivery_delay"
    FAILED_ATTEMPT = "failed_attempt"
    ADDRESS_PROBLEM = "address_problem"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED_TO_SENDER = "returned_to_sender"


@dataclass(frozen=True)
class WarehouseSite:
    """One physical warehouse of a provider account."""

    code: str  # the provider's warehouse code, e.g. WINIT "DEWH", ShipBob fulfillment center id
    name: str
    country_code: str | None = None
    region: str | None = None  # e.g. "EU", "US-West"


@dataclass(frozen=True)
class SkuSpec:
    """A product as a warehouse needs it (registered before the first inbound or outbound)."""

    sku: str
    title: str
    barcode: str | None = None
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    declared_value: Decimal | None = None
    currency: str | None = None
    hs_code: str | None = None
    origin_country: str | None = None


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class OutboundRequest:
    """Ship these lines from one warehouse. ``reference`` is ours, unique and stable: it is the
    idempotency key, so a retried push finds the order it already created."""

    reference: str
    warehouse_code: str
    ship_to: Address
    lines: tuple[Line, ...]
    email: str | None = None
    order_name: str | None = None  # the shop's order number, printed on the packing slip
    shipping_service: str | None = None  # provider's carrier/service code; None = warehouse default


@dataclass(frozen=True)
class Package:
    tracking_number: str
    carrier: str | None = None
    tracking_url: str | None = None
    lines: tuple[Line, ...] = ()
    shipped_at: datetime | None = None


@dataclass(frozen=True)
class Outbound:
    reference: str
    external_id: str
    status: OutboundStatus
    warehouse_code: str | None = None
    packages: tuple[Package, ...] = ()
    updated_at: datetime | None = None
    error: str | None = None
    # Every number the warehouse gave this order: a warehouse that splits an order (WINIT does,
    # by stock location) answers with several. ``external_id`` is the first of them.
    external_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StockRecord:
    """One SKU's stock at one warehouse, as the provider reports it, in one meaning for all.

    ``available`` is what may be sold now: units on the shelf that are sellable (not damaged,
    defective, quarantined or frozen), minus units the warehouse has already set aside for open
    orders or transfers. When a provider's answer does not let us compute that (a field missing,
    a value we do not understand) the connector reports less, never more: overselling costs a
    customer's order, underselling only a sale. ``on_hand`` is every unit physically in the
    building (sellable or not), ``reserved`` the units set aside for orders, ``inbound`` units
    on their way in (an ASN not yet received). Each connector documents, next to its parser,
    which of its vendor's fields make up each of these (see the README's warehouse section).
    The stock ledger counts :attr:`sellable`, never ``on_hand``.
    """

    sku: str
    warehouse_code: str
    on_hand: int
    available: int
    reserved: int = 0
    inbound: int = 0
    inbound_eta: datetime | None = None
    as_of: datetime | None = None

    @property
    def sellable(self) -> int:
        """Units the stock ledger counts as on the shelf: available to sell plus those already held
        for open orders (the ledger reserves our own orders itself, and a shipment takes them off).
        Frozen, damaged or otherwise unsellable units are not in it; never more than on hand."""
        return max(0, min(self.on_hand, self.available + self.reserved))


@dataclass(frozen=True)
class StockPage:
    records: tuple[StockRecord, ...]
    # Store it and pass it back next time. Providers always return one once they have started
    # (None is where a first-ever caller starts); ``has_more`` says whether to ask again now.
    next_cursor: str | None
    has_more: bool = False


@dataclass(frozen=True)
class InboundRequest:
    """An advance shipping notice: stock on its way into a warehouse."""

    reference: str
    warehouse_code: str
    lines: tuple[Line, ...]
    expected_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class InboundShipment:
    reference: str
    external_id: str
    status: str  # create_inbound: the vendor's word; get_inbound: an InboundStatus value


class InboundStatus(enum.Enum):
    """Where an inbound shipment stands at the warehouse, as ``get_inbound`` reads every vendor.
    A status a connector does not know reads as CREATED: stock is never counted as arrived early."""

    CREATED = "created"  # announced; nothing has reached the warehouse yet
    IN_TRANSIT = "in_transit"  # on its way, arrived or being checked in: not yet stock
    RECEIVED = "received"  # put away: the units are stock now
    CANCELLED = "cancelled"  # withdrawn or stopped: nothing more will come


@dataclass(frozen=True)
class ReturnRequest:
    reference: str
    outbound_reference: str
    lines: tuple[Line, ...]
    reason: str | None = None


@dataclass(frozen=True)
class ReturnAddress:
    """Where the customer sends a return: the warehouse's own receiving address for returns."""

    name: str
    address1: str
    city: str
    zip: str
    country_code: str
    address2: str | None = None
    province: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ReturnAuthorization:
    reference: str
    external_id: str
    status: str
    label_url: str | None = None
    address: ReturnAddress | None = None  # None when the vendor gives a label instead


class ReturnState(enum.Enum):
    """Where a return (RMA) stands at the warehouse, as ``get_return`` reads every vendor. A status a
    connector does not know reads as AUTHORIZED: nothing is counted as received early."""

    AUTHORIZED = "authorized"  # announced; the parcel has not reached the warehouse
    RECEIVED = "received"  # the parcel is in; not yet inspected
    INSPECTED = "inspected"  # every unit graded (see ReturnedLine); restocked units are stock again
    CANCELLED = "cancelled"  # withdrawn: nothing will be received


@dataclass(frozen=True)
class ReturnedLine:
    """Units of one SKU the warehouse received, and how it graded them once inspected."""

    sku: str
    quantity: int
    grade: str | None = None  # the vendor's own word ("A", "Damaged", ...), kept for the merchant
    sellable: bool | None = None  # None until inspected; True: put back on the shelf as stock


@dataclass(frozen=True)
class ReturnStatus:
    reference: str
    external_id: str
    state: ReturnState
    lines: tuple[ReturnedLine, ...] = ()  # received (and, once inspected, graded) units
    updated_at: datetime | None = None


@dataclass(frozen=True)
class TrackingEvent:
    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime
    reason: ExceptionReason | None = None
    description: str = ""
    location: str | None = None
    carrier: str | None = None
    raw_code: str | None = None  # the provider's own code, kept for support


@dataclass(frozen=True)
class WarehouseEvent:
    """A verified, parsed provider webhook."""

    kind: str  # "outbound", "inventory", "tracking", "return"
    delivery_id: str
    reference: str | None = None  # our outbound reference, when the event is about one
    outbound: Outbound | None = None
    stock: tuple[StockRecord, ...] = ()
    tracking: tuple[TrackingEvent, ...] = ()
    returned: ReturnStatus | None = None  # kind "return": the RMA's state (reference: our return's)
    extra: dict = field(default_factory=dict)
