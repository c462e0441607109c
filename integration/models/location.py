"""A Shopify location of the shop; each is a candidate for mapping to a warehouse."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id"),)
    # The location's own name and address belong to the merchant, not to a customer.
    __not_pii__ = ("name", "address")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    shopify_id: Mapped[str] = mapped_column(String(64))  # gid://shopify/Location/N
    name: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str | None] = mapped_column(String(500))
    country_code: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
