"""Orders as the domain sees them, whichever channel they came from (Shopify now, Amazon later).

Plain frozen dataclasses: connectors build them from vendor payloads, services store them. No
framework imports here. Ids are the channel's own global ids (``gid://shopify/Order/1``), kept as
opaque strings; datetimes are timezone-aware UTC; money is ``Decimal``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Address:
    """A postal address of a customer: personal data as a whole (erased on redact)."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The fields that are set, for a JSON column."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    @property
    def full_name(self) -> str | None:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.first_name, self.last_name) if p)
        return joined or None


@dataclass(frozen=True)
class Customer:
    id: str | None
    """``gid://shopify/Customer/N``; None for a guest checkout."""
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def full_name(self) -> str | None:
        joined = " ".join(p for p in (self.first_name, self.last_name) if p)
        return joined or None


@dataclass(frozen=True)
class OrderLineData:
    external_id: str
    name: str
    quantity: int
    """As ordered."""
    current_quantity: int | None = None
    """Ordered minus removed (order edits, refunds); None when the channel does not say."""
    variant_external_id: str | None = None
    product_external_id: str | None = None
    sku: str | None = None
    price: Decimal | None = None

    @property
    def open_quantity(self) -> int:
        """What still has to be shipped: removed units are not routed to a warehouse."""
        return self.quantity if self.current_quantity is None else self.current_quantity


@dataclass(frozen=True)
class OrderData:
    external_id: str
    name: str
    updated_at: datetime
    """The channel's version of the order: a copy older than the stored one is ignored."""
    created_at: datetime | None = None
    email: str | None = None
    phone: str | None = None
    customer: Customer | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    locale: str | None = None
    currency: str | None = None
    total_price: Decimal | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: datetime | None = None
    lines: tuple[OrderLineData, ...] = ()
    channel: str = "shopify"

    @property
    def contact_email(self) -> str | None:
        return self.email or (self.customer.email if self.customer else None)

    @property
    def contact_phone(self) -> str | None:
        return self.phone or (self.customer.phone if self.customer else None)

    @property
    def customer_name(self) -> str | None:
        if self.customer and self.customer.full_name:
            return self.customer.full_name
        for address in (self.shipping_address, self.billing_address):
            if address and address.full_name:
                return address.full_name
        return None

    @property
    def shipping_country(self) -> str | None:
        """ISO country of the destination: what routing to a local warehouse keys on."""
        if self.shipping_address and self.shipping_address.country_code:
            return self.shipping_address.country_code.upper()
        return None


@dataclass(frozen=True)
class FulfillmentData:
    """A shipment of (part of) an order, with its carrier tracking."""

    external_id: str
    updated_at: datetime
    order_external_id: str | None = None
    status: str | None = None
    """pending, open, success, cancelled, error, failure."""
    shipment_status: str | None = None
    """Carrier progress: label_printed, in_transit, out_for_delivery, delivered, failure…"""
    tracking_company: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    tracking_urls: tuple[str, ...] = ()
    name: str | None = None
    created_at: datetime | None = None

    @property
    def tracking_number(self) -> str | None:
        return self.tracking_numbers[0] if self.tracking_numbers else None

    @property
    def tracking_url(self) -> str | None:
        return self.tracking_urls[0] if self.tracking_urls else None


@dataclass(frozen=True)
class PrivacyRequest:
    """A data-subject request about one customer of one shop (view their data, or erase it).

    The customer data we hold comes from orders, hence its place here.
    """

    shop_domain: str
    customer_id: str | None
    """``gid://shopify/Customer/N``; Shopify may send only an email."""
    email: str | None = None
    phone: str | None = None
    order_ids: tuple[str, ...] = ()
    """Orders named by the request (``orders_requested`` / ``orders_to_redact``), as gids."""
    request_id: str | None = None
    """The data request's own id, for the merchant's reference."""
