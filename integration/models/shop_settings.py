"""Per-shop behaviour the merchant chooses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime


class ShopSettings(Base):
    __tablename__ = "shop_settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    # When no warehouse can ship an order in full: split it across warehouses, or hold the
    # short lines as backordered (and alert the merchant).
    split_orders: Mapped[bool] = mapped_column(Boolean, default=True)
    # Units held back from every channel per SKU x warehouse, so a late count never oversells.
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    # Extra units held back per channel: {"shopify": 0, "amazon": 2}.
    channel_buffers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who tells customers their parcel shipped: "nearstock" (our notices; Shopify's shipping
    # e-mails are suppressed with notifyCustomer=false) or "shopify". Never both.
    customer_notices_by: Mapped[str] = mapped_column(String(16), default="nearstock")
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=5)
    # First app proxy call from the shop's storefront (the stock block asks for its status):
    # the block is on a live theme. The admin's setup guide ticks "turn on the storefront block".
    storefront_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
