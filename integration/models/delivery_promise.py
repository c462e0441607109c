"""The delivery date a parcel was promised when it left the warehouse, kept for the promise-kept
rate: the merchant's transit settings change, the promise already made does not."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class DeliveryPromise(Base):
    """One per shipment. ``promised_by`` is the latest date of the estimate the "shipped" e-mail and
    the tracking page show (ship date + the warehouse's transit days to the destination, business
    days); ``delivered_on`` the delivery's calendar day in the destination's time zone."""

    __tablename__ = "delivery_promises"
    __table_args__ = (Index("ix_delivery_promises_shop_id_promised_by", "shop_id", "promised_by"),)
    __not_pii__ = ("carrier", "country_code")  # a carrier's name and a country: not about a person

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id", ondelete="SET NULL"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(128))
    country_code: Mapped[str | None] = mapped_column(String(2))  # the destination
    shipped_on: Mapped[date] = mapped_column(Date)
    promised_by: Mapped[date] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
