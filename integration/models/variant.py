"""A sellable product variant of the shop, as imported from Shopify (SKU is what warehouses use)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class Variant(Base):
    __tablename__ = "variants"
    # (shop_id, sku): the stock page lists a shop's SKUs in order, a page at a time.
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id"), Index("ix_variants_shop_id_sku", "shop_id", "sku"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    shopify_id: Mapped[str] = mapped_column(String(64))  # gid://shopify/ProductVariant/N
    product_shopify_id: Mapped[str] = mapped_column(String(64), index=True)
    inventory_item_id: Mapped[str | None] = mapped_column(String(64), index=True)
    sku: Mapped[str | None] = mapped_column(String(255), index=True)
    barcode: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
