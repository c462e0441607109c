"""The ledger of one SKU x warehouse as it stood at the end of a (UTC) day.

A row is written by every writer of ``stock_levels`` for the rows it changed (see
:func:`integration.stock.daily.record_levels`): the day's last write wins, so a day's row is that
day's closing count. A day without a row had no change: its count is the previous row's. The
stock page draws its per-SKU chart from these rows (the ledger itself keeps only the present).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId


class StockDaily(Base):
    __tablename__ = "stock_daily"
    # (warehouse, sku, day): the writers' upsert key and the history reader's range scan.
    __table_args__ = (UniqueConstraint("warehouse_id", "sku", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    day: Mapped[date] = mapped_column(Date)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer)
    inbound: Mapped[int] = mapped_column(Integer)
