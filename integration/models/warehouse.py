"""A merchant's 3PL account and the warehouses behind it, each mapped to a Shopify location."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from integration.models.base import Base, BigId, EncryptedText, UTCDateTime, utcnow


class WarehouseAccount(Base):
    __tablename__ = "warehouse_accounts"
    __not_pii__ = ("name",)  # the merchant's label for the account

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))  # registry name: winit, goodcang, shipbob
    name: Mapped[str] = mapped_column(String(255), default="")
    credentials: Mapped[str] = mapped_column(EncryptedText)  # JSON object, encrypted at rest
    endpoint: Mapped[str | None] = mapped_column(String(500))  # override (sandbox); None = vendor's
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    warehouses: Mapped[list[Warehouse]] = relationship(back_populates="account")


class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (
        UniqueConstraint("account_id", "code"),
        UniqueConstraint("shop_id", "location_shopify_id"),
    )
    __not_pii__ = ("name",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("warehouse_accounts.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # the provider's warehouse code
    name: Mapped[str] = mapped_column(String(255), default="")
    location_shopify_id: Mapped[str | None] = mapped_column(String(64))
    country_code: Mapped[str] = mapped_column(String(2))  # the market it serves locally
    region: Mapped[str | None] = mapped_column(String(32))  # e.g. EU, NA: "nearest region" ranking
    handling_hours: Mapped[int] = mapped_column(Integer, default=24)  # the SLA to ship
    # {"DE": [1, 3], "FR": [2, 4], "*": [5, 10]}: business days in transit per destination.
    transit_days: Mapped[dict] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower first, among equals
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    account: Mapped[WarehouseAccount] = relationship(back_populates="warehouses")


class RoutingRule(Base):
    """A merchant rule: never ship ``sku`` (or anything) to ``country_code`` (or anywhere) from
    this warehouse."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str | None] = mapped_column(String(255))
    country_code: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
