"""The ports connectors implement. Services depend on these, never on a vendor module.

Errors are those of :mod:`connectors.errors` by contract (RetryableError, PermanentError,
AuthError); a port method never returns a vendor dict.

* :class:`WarehouseProvider`: one merchant's account at one 3PL.
* :class:`SalesChannel`: one seller's store on one marketplace. It holds what every marketplace
  Nearstock sells on does with it, in one shape: quantities out (``set_quantities``, keyed by the
  channel's own stock item and location). Shopify, Amazon and the next ones (eBay, TikTok Shop,
  Shopee: all set a quantity per listing and location) implement it, so a stock push needs
  nothing channel-specific but the ids.
* The rest differs in shape between channels today, so it lives on a narrower Protocol per channel
  that extends SalesChannel (a service asking for one says which channel it works with):

  - :class:`ShopifyStore`: shipments are *fulfilled* against the fulfillment orders Shopify
    assigned to its locations (the service picks the lines per location) and tracking events
    follow; orders come in by webhook (:mod:`integration.inbox`), so there is nothing to poll.
    Shopify-only besides: metafields for the storefront, discount codes for loyalty, the bulk
    catalog export, webhook subscriptions.
  - :class:`AmazonSeller`: shipments are *confirmed* as packages of order items; orders are
    polled with a cursor; many quantities at once go as a feed.

  When a third channel shows which shape of "shipment confirmed" and "orders in" is common, that
  signature moves up to SalesChannel; until then a lowest common denominator would only hide
  what each vendor needs (Shopify's fulfillment-order lines, Amazon's order items).
* :class:`Mailer`: sends one outgoing message.
* :class:`ShopifyAuthorizer` and :class:`AmazonAuthorizer`: our app authorized by a shop or a
  seller, and the tokens that come of it. Their grants differ (Shopify: a code or a session token
  for a rotating token pair; Amazon: a consent per region for one long-lived refresh token), so
  there is one per vendor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import ClassVar, Protocol, runtime_checkable

from integration.domain.authorization import ConsentCallback, SellerAuthorization, TokenSet
from integration.domain.channels import (
    BulkOperation,
    ChannelReturn,
    DiscountCode,
    FeedResult,
    FeedSubmission,
    Fulfillment,
    FulfillmentEvent,
    FulfillmentOrder,
    InventoryChange,
    InventorySetResult,
    Location,
    Metafield,
    MetafieldInput,
    OrdersPage,
    ProcessedReturn,
    ProductTraffic,
    ReturnableLine,
    ReturnLineInput,
    ShipmentPackage,
    ShopProfile,
    TrackingInfo,
    VariantStock,
)
from integration.domain.mail import Outgoing
from integration.domain.warehousing import (
    Capability,
    InboundRequest,
    InboundShipment,
    Outbound,
    OutboundRequest,
    ReturnAuthorization,
    ReturnRequest,
    ReturnStatus,
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

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        """Announce the inbound shipment, or return the one already created under
        ``request.reference`` (a retry never creates a second one)."""
        ...

    def get_inbound(self, reference: str, external_id: str) -> InboundShipment:
        """The inbound ``external_id`` created under our ``reference``, its status an
        :class:`InboundStatus` value; PermanentError when the warehouse has no such inbound."""
        ...

    def cancel_inbound(self, reference: str, external_id: str) -> InboundShipment:
        """Withdraw it (providers with Capability.CANCEL_INBOUND; the others raise PermanentError,
        as does one that has started receiving it)."""
        ...

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        """An RMA for units of one of our outbound orders; idempotent by ``request.reference``."""

    def get_return(self, reference: str, external_id: str) -> ReturnStatus:
        """Where an RMA stands: received and (once inspected) graded units."""

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        """Carrier events of the outbound ``reference``, normalised to the domain taxonomy."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        """Verify the signature on the raw bytes (constant time) and parse; raises
        PermanentError for a bad signature or shape. Providers without webhooks raise too."""
        ...


@runtime_checkable
class SalesChannel(Protocol):
    """One seller's store on one marketplace (a Shopify shop; an Amazon account in one marketplace)."""

    name: ClassVar[str]  # the channel of its orders and of its channel_stock rows: "shopify", "amazon"

    def set_quantities(self, changes: Sequence[InventoryChange], *, key: str) -> InventorySetResult:
        """Quantities out. ``key`` makes a retried call idempotent where the channel takes such a
        key (Shopify); ``change_from`` is compared where the channel can (Shopify). A change the
        channel refuses comes back in ``unapplied``; a malformed request raises PermanentError."""
        ...


@runtime_checkable
class ShopifyStore(SalesChannel, Protocol):
    """One installed Shopify shop (Admin GraphQL API)."""

    def get_shop_profile(self) -> ShopProfile: ...

    def iter_locations(self) -> Iterator[Location]: ...

    def run_variant_stock_export(self) -> BulkOperation:
        """Start the bulk export of every variant with its inventory levels."""
        ...

    def get_bulk_operation(self, operation_id: str) -> BulkOperation | None: ...

    def iter_variant_stock(self, url: str) -> Iterator[VariantStock]:
        """The rows of a finished export, read from its result ``url``."""
        ...

    def set_metafields(self, metafields: Sequence[MetafieldInput]) -> list[Metafield]: ...

    def get_discount_code(self, code: str) -> DiscountCode | None: ...

    def create_basic_discount_code(
        self, *, code: str, title: str, customer_id: str, starts_at: datetime, ends_at: datetime | None,
        percentage: float | None = None, amount: Decimal | None = None, usage_limit: int = 1,
    ) -> DiscountCode:
        """An amount or percentage off, for ``customer_id`` only."""
        ...

    def create_free_shipping_code(
        self, *, code: str, title: str, customer_id: str, starts_at: datetime, ends_at: datetime | None,
    ) -> DiscountCode: ...

    def get_fulfillment_orders(self, order_id: str) -> list[FulfillmentOrder]: ...

    def find_fulfillment_by_tracking(self, order_id: str, tracking_number: str) -> Fulfillment | None: ...

    def create_fulfillment(
        self, line_items_by_fulfillment_order: Mapping[str, Sequence[tuple[str, int]]], *,
        tracking: TrackingInfo | None = None, notify_customer: bool = False,
    ) -> Fulfillment:
        """Fulfil ``{fulfillment_order_id: [(fulfillment_order_line_item_id, quantity), ...]}``."""
        ...

    def get_fulfillment_events(self, fulfillment_id: str) -> list[FulfillmentEvent]: ...

    def create_fulfillment_event(
        self, fulfillment_id: str, status: str, *, happened_at: datetime | None = None, message: str | None = None,
    ) -> FulfillmentEvent: ...

    # -- returns (Shopify's Returns API) --
    def get_returnable_lines(self, order_id: str) -> list[ReturnableLine]: ...

    def request_return(self, order_id: str, lines: Sequence[ReturnLineInput]) -> ChannelReturn:
        """``returnRequest``: a return awaiting the merchant's decision (status REQUESTED)."""

    def approve_return(self, return_id: str) -> ChannelReturn:
        """``returnApproveRequest``; approving an already open return returns it unchanged."""

    def decline_return(self, return_id: str, reason: str, note: str | None = None) -> ChannelReturn:
        """``returnDeclineRequest`` with a ReturnDeclineReason value."""

    def get_return(self, return_id: str) -> ChannelReturn: ...

    def create_reverse_delivery(self, reverse_fulfillment_order_id: str, *, tracking_number: str | None,
                                tracking_url: str | None, label_url: str | None) -> str:
        """``reverseDeliveryCreateWithShipping`` for all of the order's lines; the delivery's id.
        Shopify's tracking input is a number and a URL (no carrier name); a retry answers the
        delivery with the same tracking number and label."""

    def process_return(self, return_id: str, lines: Sequence[tuple[str, int]], *, refund: bool,
                       key: str) -> ProcessedReturn:
        """``returnProcess`` for (return line id, quantity) pairs, refunding them or not (an
        exchange). Exactly once per ``key``: a retry after a lost answer finds the earlier result."""

    def get_product_traffic(self, since: date, until: date) -> list[ProductTraffic]:
        """Sessions and orders per product and market from ``since`` to ``until`` (inclusive).
        Needs the ``read_reports`` scope."""
        ...


@runtime_checkable
class AmazonSeller(SalesChannel, Protocol):
    """One seller account in one Amazon marketplace (Selling Partner API)."""

    def submit_quantity_feeds(self, quantities: Mapping[str, int]) -> list[FeedSubmission]:
        """SKU -> MFN quantity as feeds (for more SKUs than one call each would be reasonable)."""
        ...

    def wait_for_feed(self, submission: FeedSubmission, *, timeout: float, poll_every: float,
                      sleep: Callable[[float], None]) -> FeedResult: ...

    def poll_orders(self, cursor: str | None, *, since: datetime | None = None,
                    now: Callable[[], datetime] | None = None) -> OrdersPage:
        """Orders of this marketplace updated since ``cursor`` (None: since ``since``), one page."""
        ...

    def confirm_shipment(self, order_id: str, package: ShipmentPackage) -> None:
        """Confirm one package of a merchant-fulfilled order; the same package reference again is
        the same package to Amazon."""
        ...


@runtime_checkable
class Mailer(Protocol):
    """A mail transport (SMTP, or the development outbox folder). One instance per process and
    thread; it may keep a connection open across sends, so a batch goes over one session."""

    def send(self, message: EmailMessage | Outgoing, *, before_data: Callable[[], None] | None = None) -> str:
        """Deliver ``message``; returns the provider's message id. ``before_data`` runs right before
        the point after which the server may hold the message even if we never see its answer."""
        ...

    def close(self) -> None:
        """Release what the mailer holds open (its connection); the next send opens a new one."""
        ...


@runtime_checkable
class ShopifyAuthorizer(Protocol):
    """Our Shopify app's OAuth with shops. Every grant asks for an *expiring* offline token (about an
    hour, with a refresh token that rotates); ``shop`` must be a ``*.myshopify.com`` domain
    (PermanentError otherwise: our client secret goes to that host). A used, expired or revoked
    code or token raises AuthError: the merchant must authorize again."""

    def authorize_url(self, shop: str, scopes: Iterable[str] | str, redirect_uri: str, state: str) -> str:
        """Where to send the merchant to approve ``scopes`` at install."""
        ...

    def exchange_code(self, shop: str, code: str) -> TokenSet:
        """Authorization code grant: the ``code`` of the install callback for a token pair."""
        ...

    def exchange_session_token(self, shop: str, session_token: str) -> TokenSet:
        """Token exchange: an App Bridge session token, verified by the caller, for a token pair."""
        ...

    def refresh(self, shop: str, refresh_token: str) -> TokenSet:
        """A new access token *and* a new refresh token (the old one dies): persist both."""
        ...


@runtime_checkable
class AmazonAuthorizer(Protocol):
    """Our SP-API application authorized by a seller (website workflow). A consent covers one region
    (one Seller Central): each region's marketplaces are connected apart."""

    def region_of(self, marketplace_id: str) -> str:
        """``na``, ``eu`` or ``fe``: the region serving the marketplace; PermanentError if unknown."""
        ...

    def consent_url(self, state: str, *, marketplace_id: str, redirect_uri: str) -> str:
        """The consent page of the marketplace's Seller Central; PermanentError for a marketplace
        without a known one. Amazon redirects to ``redirect_uri`` with ``state``."""
        ...

    def read_callback(self, query: Mapping[str, str], *, expected_state: str) -> ConsentCallback:
        """The redirect's seller and code; AuthError when its state is not ``expected_state``
        (compared in constant time) or either is missing."""
        ...

    def exchange_code(self, code: str, *, selling_partner_id: str, redirect_uri: str) -> SellerAuthorization:
        """The one-time code (within five minutes, with the consent's ``redirect_uri``) for the
        seller's refresh token; AuthError when Amazon refuses it."""
        ...
