"""The stock ledger: one row per SKU x warehouse.

``on_hand`` is the warehouse's sellable count (``StockRecord.sellable``: units on the shelf that can
be sold, including those it holds for open orders; frozen or damaged units left out); ``reserved``
is ours: units allocated to orders and not yet shipped. What may be sold is on_hand - reserved - safety stock.
Reservations are taken by one conditional UPDATE (``... WHERE on_hand - reserved >= :q``), so two
orders can never both take the last unit, whichever process or channel they come from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class StockLevel(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "sku"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    inbound_eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the provider's count was taken; older snapshots never overwrite newer local knowledge
    # (a shipment we recorded after the snapshot was taken).
    on_hand_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
