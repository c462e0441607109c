"""A customer order from a sales channel (Shopify now, Amazon later) and its lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("shop_id", "channel", "external_id"),)
    __pii__ = ("email", "phone", "customer_name", "shipping_address", "billing_address")
    __customer_match__ = ("customer_external_id", "email")
    __not_pii__ = ("name",)  # the shop's order number, "#1001"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="shopify")
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64), default="")  # "#1001": the shop's order number
    customer_external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(64))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    billing_address: Mapped[dict | None] = mapped_column(JSON)
    # Kept after redaction: a country is not personal on its own and routing statistics need it.
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    locale: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str | None] = mapped_column(String(3))
    total_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    financial_status: Mapped[str | None] = mapped_column(String(32))
    fulfillment_status: Mapped[str | None] = mapped_column(String(32))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set in the transaction that reserves its stock: the first allocation to set it wins, so
    # two jobs for the same order (create + updated webhooks) never both reserve.
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )



# When the order was placed, per shop: the demand rebuild selects a window's orders by it (and
# PostgreSQL keeps statistics on the expression only with an index on it).
Index("ix_orders_shop_id_placed_at", Order.shop_id, func.coalesce(Order.external_created_at, Order.created_at))

class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)
    __not_pii__ = ("name",)  # product name, not a person's

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    variant_external_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    order: Mapped[Order] = relationship(back_populates="lines")
