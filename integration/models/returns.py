"""After-sales: returns (and exchanges) through the customer's local warehouse, their lines and
timeline, reships of lost or damaged parcels, claims against carriers and 3PLs, and each shop's
return rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class ReturnState:
    REQUESTED = "requested"  # waiting for the merchant (or for the rules' job)
    APPROVED = "approved"  # decided: Shopify approval, the RMA and the label are being made
    AUTHORIZED = "authorized"  # the warehouse expects the parcel; the customer has the address
    RECEIVED = "received"  # the parcel is in; inspection pending
    INSPECTED = "inspected"  # graded; restocked units are stock again; settling
    CLOSED = "closed"  # refunded, or processed and the replacement on its way
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn at the warehouse

    ALL = (REQUESTED, APPROVED, AUTHORIZED, RECEIVED, INSPECTED, CLOSED, DECLINED, CANCELLED)
    OPEN_AT_WAREHOUSE = (AUTHORIZED, RECEIVED)


class Return(Base):
    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_return_id"),)
    # The warehouse's return address and label link (where the parcel goes, no one's home), and
    # Shopify's name of the return ("#1001-R1").
    __not_pii__ = ("address", "label_url", "name")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shopify_return_id: Mapped[str] = mapped_column(String(64))  # gid://shopify/Return/N
    name: Mapped[str | None] = mapped_column(String(64))  # Shopify's "#1001-R1"
    source: Mapped[str] = mapped_column(String(16), default="customer_account")  # or tracking_page, merchant
    kind: Mapped[str] = mapped_column(String(16), default="refund")  # refund | exchange
    status: Mapped[str] = mapped_column(String(16), default=ReturnState.REQUESTED, index=True)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)  # a priority after-sales member
    decided_by: Mapped[str | None] = mapped_column(String(16))  # rules | merchant | priority
    decline_reason: Mapped[str | None] = mapped_column(String(32))  # Shopify's ReturnDeclineReason
    decline_note: Mapped[str | None] = mapped_column(String(500))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id", ondelete="SET NULL"), index=True)
    rma_reference: Mapped[str | None] = mapped_column(String(64))  # ours, the warehouse's idempotency key
    rma_external_id: Mapped[str | None] = mapped_column(String(128))  # the warehouse's RMA number
    address: Mapped[dict | None] = mapped_column(JSON)
    label_url: Mapped[str | None] = mapped_column(Text)
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    shopify_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reverse_delivery_id: Mapped[str | None] = mapped_column(String(64))
    refund_id: Mapped[str | None] = mapped_column(String(64))
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # returnProcess done
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_orders.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (UniqueConstraint("return_id", "shopify_line_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id", ondelete="SET NULL"))
    shopify_line_id: Mapped[str] = mapped_column(String(64))  # gid://shopify/ReturnLineItem/N
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32), default="UNKNOWN")  # Shopify's ReturnReason
    exchange_sku: Mapped[str | None] = mapped_column(String(255))
    received: Mapped[int] = mapped_column(Integer, default=0)
    sellable: Mapped[int] = mapped_column(Integer, default=0)  # back on the shelf
    written_off: Mapped[int] = mapped_column(Integer, default=0)
    grade: Mapped[str | None] = mapped_column(String(64))  # the warehouse's own word


class ReturnEvent(Base):
    """The return's timeline: one row per step, once (a retried step adds nothing)."""

    __tablename__ = "return_events"
    __table_args__ = (UniqueConstraint("return_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # requested, approved, authorized, received, ...
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reship(Base):
    """A replacement for a lost or damaged parcel (or a missing part), from the local warehouse."""

    __tablename__ = "reships"
    __table_args__ = (UniqueConstraint("shop_id", "order_id", "shipment_id", "reason"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))  # lost | damaged | missing_part
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [[sku, qty], ...] sent again
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id", ondelete="SET NULL"))
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_orders.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, waiting (no stock)
    requested_by: Mapped[str] = mapped_column(String(16), default="merchant")  # merchant | carrier
    note: Mapped[str | None] = mapped_column(String(500))  # the merchant's own note
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Claim(Base):
    """What the merchant claims back from a carrier or a 3PL for a lost or damaged parcel."""

    __tablename__ = "claims"
    # One claim per parcel, problem and party: opening it again finds the first.
    __table_args__ = (UniqueConstraint("shipment_id", "kind", "against"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    reship_id: Mapped[int | None] = mapped_column(ForeignKey("reships.id", ondelete="SET NULL"))
    against: Mapped[str] = mapped_column(String(16))  # carrier | warehouse
    kind: Mapped[str] = mapped_column(String(16))  # lost | damaged | missing_part
    # The merchant's evidence: notes about the parcel and links to photos (of goods, not people).
    notes: Mapped[str | None] = mapped_column(Text)
    photo_urls: Mapped[list] = mapped_column(JSON, default=list)
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_claimed: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    amount_settled: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | settled | rejected
    outcome: Mapped[str | None] = mapped_column(String(16))  # reshipped | refunded | rejected
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnRulesRow(Base):
    """A shop's return policy (see integration.domain.returns.ReturnRules)."""

    __tablename__ = "return_rules"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    accepted_reasons: Mapped[list] = mapped_column(JSON, default=list)  # empty: all
    non_returnable_skus: Mapped[list] = mapped_column(JSON, default=list)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    reship_when_lost: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
