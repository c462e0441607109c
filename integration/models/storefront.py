"""The storefront stock status: per-shop settings and text overrides, the last status computed per
variant (what was written to Shopify), and back-in-stock subscriptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class StorefrontSettings(Base):
    """What the merchant chose for the storefront status (the look is set in the theme editor)."""

    __tablename__ = "storefront_settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    # Show "Pre-order, arrives 12 Dec" when only inbound stock is left. The variant must also
    # continue selling when out of stock in Shopify for the order to go through.
    allow_preorder: Mapped[bool] = mapped_column(Boolean, default=False)
    back_in_stock: Mapped[bool] = mapped_column(Boolean, default=True)
    # Subscribers told per restocked unit (not 500 e-mails for 3 units).
    notify_per_unit: Mapped[float] = mapped_column(Float, default=2.0)
    # Storefront languages rendered into the metafields; empty: every supported language.
    locales: Mapped[list] = mapped_column(JSON, default=list)
    # The language used when the shopper's is not rendered; None: the shop's primary locale.
    default_locale: Mapped[str | None] = mapped_column(String(16))
    # Extra countries to compute a status for (besides warehouse countries and transit keys).
    markets: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StockStatusText(Base):
    """A merchant's wording of one status text in one language."""

    __tablename__ = "stock_status_texts"
    __table_args__ = (UniqueConstraint("shop_id", "locale", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VariantStockState(Base):
    """The status document last computed for a variant and the one last written to its metafield,
    so metafields are written only when what a shopper sees changes; and the units it had, so a
    restock is noticed (and counted) once."""

    __tablename__ = "variant_stock_states"
    __table_args__ = (UniqueConstraint("shop_id", "variant_shopify_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    variant_shopify_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(64))  # of the status document now
    synced_digest: Mapped[str | None] = mapped_column(String(64))  # of the one Shopify holds
    available: Mapped[int] = mapped_column(Integer, default=0)  # units for sale anywhere
    restock_seq: Mapped[int] = mapped_column(Integer, default=0)  # +1 each time it comes back
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubscriptionStatus:
    PENDING = "pending"  # signed up, confirmation e-mail sent (double opt-in)
    ACTIVE = "active"  # confirmed: waiting for a restock
    NOTIFIED = "notified"  # told once; signing up again starts over
    UNSUBSCRIBED = "unsubscribed"


class BackInStockSubscription(Base):
    """A shopper waiting for a variant to come back, by e-mail."""

    __tablename__ = "back_in_stock_subscriptions"
    __table_args__ = (
        UniqueConstraint("shop_id", "variant_shopify_id", "email"),
        Index("ix_back_in_stock_waiting", "shop_id", "variant_shopify_id", "status", "confirmed_at"),
    )
    __pii__ = ("email", "customer_external_id")
    __customer_match__ = ("customer_external_id", "email")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    variant_shopify_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))  # lower-cased; NULL once redacted
    customer_external_id: Mapped[str | None] = mapped_column(String(64))  # logged-in shopper
    locale: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    product_path: Mapped[str | None] = mapped_column(String(255))  # /products/<handle> on the shop
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.PENDING)
    confirm_round: Mapped[int] = mapped_column(Integer, default=1)  # +1 per new confirmation e-mail
    notified_restock: Mapped[int | None] = mapped_column(Integer)  # restock_seq it was told of
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
