"""Insights: the warehouse as a market sensor (issue #22).

Daily demand per SKU x warehouse (with the days it could not be seen: stock-outs), the merchant's
promotions and lead times, the per-series forecast, detected demand shifts, and what the
computation suggests (restock, transfer), the inbound shipments made from them and the test-sale
gates that may stop a SKU in a market. Every row belongs to one shop.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow

OPEN = text("status = 'open'")
SHIFT_OPEN = text("ended_on IS NULL")


def _shop() -> Mapped[int]:
    return mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)


def _warehouse() -> Mapped[int]:
    return mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))


class DemandDay(Base):
    """Units sold of one SKU at one warehouse on one (UTC) day. ``censored``: nothing was
    available that day, so demand is unknown (not zero). Net demand = units - cancelled."""

    __tablename__ = "demand_daily"
    __table_args__ = (UniqueConstraint("warehouse_id", "sku", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    warehouse_id: Mapped[int] = _warehouse()
    sku: Mapped[str] = mapped_column(String(255))
    day: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    censored: Mapped[bool] = mapped_column(Boolean, default=False)
    promo: Mapped[bool] = mapped_column(Boolean, default=False)


class Promotion(Base):
    """A sale the merchant plans: its days are marked ``promo`` and forecast with the uplift."""

    __tablename__ = "promotions"
    __not_pii__ = ("name",)  # the merchant's name for the sale, "Black Friday"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    uplift_pct: Mapped[int] = mapped_column(Integer, default=0)
    sku: Mapped[str | None] = mapped_column(String(255))  # None: every SKU
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LeadTime(Base):
    """How long a replenishment of a warehouse takes, in its four legs; ``sku`` None is the
    warehouse's default. No row at all: 7 + 21 + 3 + 2 = 33 days."""

    __tablename__ = "lead_times"
    __table_args__ = (UniqueConstraint("warehouse_id", "sku"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    warehouse_id: Mapped[int] = _warehouse()
    sku: Mapped[str | None] = mapped_column(String(255))
    production_days: Mapped[int] = mapped_column(Integer, default=7)
    line_haul_days: Mapped[int] = mapped_column(Integer, default=21)
    customs_days: Mapped[int] = mapped_column(Integer, default=3)
    receiving_days: Mapped[int] = mapped_column(Integer, default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def total_days(self) -> int:
        return self.production_days + self.line_haul_days + self.customs_days + self.receiving_days


class InsightSeries(Base):
    """The computed state of one SKU x warehouse; ``dirty`` when sales or stock changed since."""

    __tablename__ = "insight_series"
    __table_args__ = (UniqueConstraint("warehouse_id", "sku"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    warehouse_id: Mapped[int] = _warehouse()
    sku: Mapped[str] = mapped_column(String(255))
    dirty: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forecast_daily: Mapped[float] = mapped_column(Float, default=0.0)
    forecast_sd: Mapped[float] = mapped_column(Float, default=0.0)
    available: Mapped[int] = mapped_column(Integer, default=0)
    days_of_cover: Mapped[float | None] = mapped_column(Float)
    baseline_daily: Mapped[float] = mapped_column(Float, default=0.0)
    recent_daily: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DemandShift(Base):
    """Demand of a series moved away from its baseline; open while ``ended_on`` is NULL, at most
    one open per (warehouse, sku, direction)."""

    __tablename__ = "demand_shifts"
    __table_args__ = (
        Index("uq_demand_shifts_open", "warehouse_id", "sku", "direction", unique=True,
              postgresql_where=SHIFT_OPEN, sqlite_where=SHIFT_OPEN),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    warehouse_id: Mapped[int] = _warehouse()
    sku: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(8))  # rise | fall
    detected_on: Mapped[date] = mapped_column(Date)
    change_pct: Mapped[float] = mapped_column(Float)
    baseline_daily: Mapped[float] = mapped_column(Float)
    recent_daily: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(64))
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RestockSuggestion(Base):
    """Order ``quantity`` of a SKU for a warehouse by ``order_by``; at most one open per
    (warehouse, sku, policy): a new computation supersedes the open one."""

    __tablename__ = "restock_suggestions"
    __table_args__ = (
        Index("uq_restock_suggestions_open", "warehouse_id", "sku", "policy", unique=True,
              postgresql_where=OPEN, sqlite_where=OPEN),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    warehouse_id: Mapped[int] = _warehouse()
    sku: Mapped[str] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(String(16), default="nearstock")  # nearstock|turnover|first_stock
    quantity: Mapped[int] = mapped_column(Integer)
    order_up_to: Mapped[int] = mapped_column(Integer)
    order_by: Mapped[date | None] = mapped_column(Date)
    forecast_daily: Mapped[float] = mapped_column(Float)
    lead_time_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|approved|dismissed|superseded
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_shipments.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TransferSuggestion(Base):
    """Move ``quantity`` of a SKU between two warehouses of the shop; at most one open per
    (sku, from, to)."""

    __tablename__ = "transfer_suggestions"
    __table_args__ = (
        Index("uq_transfer_suggestions_open", "sku", "from_warehouse_id", "to_warehouse_id", unique=True,
              postgresql_where=OPEN, sqlite_where=OPEN),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    sku: Mapped[str] = mapped_column(String(255))
    from_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    to_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    expected_arrival: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|accepted|dismissed|superseded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundShipmentRow(Base):
    """A replenishment announced to the warehouse provider. ``reference`` is ours and sent to the
    provider, so a retried create finds the shipment it already made."""

    __tablename__ = "inbound_shipments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    warehouse_id: Mapped[int] = _warehouse()
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    # pending | created | in_transit | received | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [[sku, qty], ...]
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    intake_booked_for: Mapped[date | None] = mapped_column(Date)
    suggestion_id: Mapped[int | None] = mapped_column(BigId)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TestSaleGate(Base):
    """A small test batch of a SKU in a market (country); ``verdict`` 'stop' blocks restocking
    it there."""

    __tablename__ = "test_sale_gates"
    __table_args__ = (UniqueConstraint("shop_id", "sku", "market"),)
    __test__ = False  # not a pytest class, despite the name

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = _shop()
    sku: Mapped[str] = mapped_column(String(255))
    market: Mapped[str] = mapped_column(String(2))
    batch_size: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date] = mapped_column(Date)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    conversion: Mapped[float | None] = mapped_column(Float)
    bad_review_rate: Mapped[float | None] = mapped_column(Float)
    return_rate: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16), default="testing")  # testing|proven|stop
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
