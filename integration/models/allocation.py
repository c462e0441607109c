"""Which warehouse ships which units of an order line, and the outbound orders they make up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class AllocationStatus:
    RESERVED = "reserved"  # stock held at the warehouse, outbound order pending or pushed
    SHIPPED = "shipped"  # reservation consumed
    CANCELLED = "cancelled"  # reservation released
    BACKORDERED = "backordered"  # no warehouse could take it; the merchant was alerted


class Allocation(Base):
    __tablename__ = "allocations"
    __table_args__ = (
        # (shop_id, sku): a SKU's daily sales per warehouse (the stock page's chart).
        Index("ix_allocations_shop_id_sku", "shop_id", "sku"),
        # The admin's order list: "orders with an allocation for this reason".
        Index("ix_allocations_order_id_route_reason", "order_id", "route_reason"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AllocationStatus.RESERVED)
    reason: Mapped[str] = mapped_column(Text, default="")  # the router's sentence, for people
    # A RouteReason code (local, only_stock, abroad, split, backordered): what the admin filters on.
    route_reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OutboundState:
    PENDING = "pending"  # to be pushed to the warehouse
    PUSHED = "pushed"  # the warehouse has it
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"  # the warehouse refused it permanently; merchant alerted


class OutboundOrder(Base):
    __tablename__ = "outbound_orders"
    # One outbound per (order, warehouse) for the order itself, plus one per replacement parcel
    # (an exchange, a reship) named by its purpose.
    __table_args__ = (UniqueConstraint("order_id", "warehouse_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    # "" for the order's own shipment; "return:<id>" / "reship:<id>" for a replacement parcel.
    purpose: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Ours, unique and stable: the idempotency key at the warehouse.
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboundState.PENDING, index=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    # All the warehouse's numbers when it split the order (Outbound.external_ids), else None.
    external_ids: Mapped[list | None] = mapped_column(JSON)
    warehouse_status: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sla_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
