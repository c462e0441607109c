"""A merchant's Shopify store that installed the app."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, EncryptedText, UTCDateTime, utcnow


class ShopStatus:
    INSTALLED = "installed"
    UNINSTALLED = "uninstalled"  # tokens deleted, data kept until shop/redact


class Shop(Base):
    __tablename__ = "shops"
    __not_pii__ = ("name", "email")  # the merchant's business identity

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ShopStatus.INSTALLED)
    scopes: Mapped[str] = mapped_column(Text, default="")
    # The shop's own name and contact address belong to the merchant, not to a customer.
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str | None] = mapped_column(String(3))
    country_code: Mapped[str | None] = mapped_column(String(2))
    primary_locale: Mapped[str | None] = mapped_column(String(16))
    access_token: Mapped[str | None] = mapped_column(EncryptedText)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # never the tokens
        return f"<Shop {self.id} {self.domain} {self.status}>"
