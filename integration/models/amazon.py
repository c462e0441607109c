"""A merchant's Amazon seller account (SP-API authorization), the marketplace each imported Amazon
order came from, and the shipment confirmations we sent to Amazon."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, EncryptedText, UTCDateTime, utcnow


class AmazonAccount(Base):
    __tablename__ = "amazon_accounts"
    __table_args__ = (UniqueConstraint("shop_id", "seller_id"),)
    __not_pii__ = ("name",)  # the merchant's label for the account

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    seller_id: Mapped[str] = mapped_column(String(64))  # selling partner id (merchant token)
    region: Mapped[str] = mapped_column(String(8), default="eu")  # na, eu, fe
    marketplaces: Mapped[list] = mapped_column(JSON, default=list)  # marketplace ids, first = default
    lwa_client_id: Mapped[str] = mapped_column(String(255))
    lwa_client_secret: Mapped[str] = mapped_column(EncryptedText)
    refresh_token: Mapped[str] = mapped_column(EncryptedText)
    endpoint: Mapped[str | None] = mapped_column(String(500))  # override (emulator); None = Amazon's
    lwa_token_url: Mapped[str | None] = mapped_column(String(500))  # override (emulator)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AmazonOrder(Base):
    """Which account and marketplace an Amazon order (MFN or AFN) belongs to: confirmShipment
    must name the order's marketplace, and OrderData does not carry it."""

    __tablename__ = "amazon_orders"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id", ondelete="CASCADE"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AmazonShipmentConfirmation(Base):
    """One ``confirmShipment`` per shipment (package), recorded after Amazon accepted it."""

    __tablename__ = "amazon_shipment_confirmations"

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    package_reference_id: Mapped[str] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)  # last refusal (PermanentError), None once confirmed
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
