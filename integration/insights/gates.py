"""Test-sale gates: a SKU proves a market with a small batch before full stock is sent.

A gate is started for a SKU x market (an ISO country) with a batch size and a start date, then
evaluated (daily by cron, or when the merchant asks) over the period from its start to today:

* conversion = orders / sessions of the SKU's product in that market, from Shopify's analytics
  (``ShopifyStore.get_product_traffic``, ShopifyQL). Shopify counts sessions per *product*, so a
  SKU's conversion is its product's: variants of one product share one figure.
* bad review rate = ratings <= 2 / all ratings (``OrderFeedback``) of orders shipped to that market
  that contain the SKU, placed since the start. None while nobody has rated.
* return rate = cancelled or refunded orders / orders of the SKU in that market since the start
  (the returns of issue 23 will count here when they exist). Shown, not part of the verdict.

Verdict (:func:`decide`): ``testing`` until there are enough sessions to judge; then ``proven``
when conversion and bad reviews both meet their threshold, else ``stop``. The restock suggestions
skip a SKU x market whose verdict is ``stop``. The thresholds are :data:`DEFAULT_THRESHOLDS`
(the business rule: conversion >= 2 %, bad reviews <= 5 %, judged from 200 sessions); a merchant
setting can pass other :class:`Thresholds`.

Evaluating recomputes every figure from its sources and overwrites the row: running it twice, or
again after a crash half-way, leaves the same row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, func, or_, select

from integration.domain.ports import ShopifyStore
from integration.extensions import db
from integration.models import Order, OrderFeedback, OrderLine, Shop, ShopStatus, TestSaleGate, Variant
from integration.models.base import utcnow
from integration.warehouses.countries import COUNTRIES

TESTING, PROVEN, STOP = "testing", "proven", "stop"
VERDICTS = (TESTING, PROVEN, STOP)
MAX_BATCH = 100_000
BAD_RATING = 2  # ratings of 1 or 2 (of 5) are bad reviews
REFUNDED = ("refunded", "partially_refunded")


@dataclass(frozen=True)
class Thresholds:
    min_conversion: float = 0.02
    max_bad_review_rate: float = 0.05
    min_sessions: int = 200


DEFAULT_THRESHOLDS = Thresholds()


class GateError(ValueError):
    """A start request the service refuses; ``field`` names the input."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


def decide(sessions: int, conversion: float | None, bad_review_rate: float | None,
           thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """No rating yet counts as no bad review: the reviews threshold can only be missed."""
    if sessions < thresholds.min_sessions or conversion is None:
        return TESTING
    if conversion >= thresholds.min_conversion and (
            bad_review_rate is None or bad_review_rate <= thresholds.max_bad_review_rate):
        return PROVEN
    return STOP


def product_of(shop_id: int, sku: str) -> str | None:
    return db.session.execute(
        select(Variant.product_shopify_id).where(Variant.shop_id == shop_id, Variant.sku == sku,
                                                 Variant.deleted_at.is_(None)).limit(1)
    ).scalar_one_or_none()


def start_gate(shop_id: int, sku: str, market: str, batch_size: int, started_on: date
               ) -> tuple[TestSaleGate, bool]:
    """(gate, created): a new gate (verdict ``testing``); the same request again returns the same
    gate, not created; another
    batch or start for an existing SKU x market is a conflict (the merchant stops that one first)."""
    if not isinstance(sku, str) or not sku.strip() or len(sku) > 255:
        raise GateError("sku", "sku must be a SKU of this shop")
    if product_of(shop_id, sku) is None:
        raise GateError("sku", "sku must be a SKU of this shop")
    if not isinstance(market, str) or market not in COUNTRIES:
        raise GateError("market", "market must be an ISO 3166 alpha-2 country code such as DE")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise GateError("batch_size", f"batch_size must be a whole number from 1 to {MAX_BATCH}")
    existing = db.session.execute(select(TestSaleGate).where(
        TestSaleGate.shop_id == shop_id, TestSaleGate.sku == sku, TestSaleGate.market == market)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.batch_size == batch_size and existing.started_on == started_on:
            return existing, False
        raise GateError("sku", "a test-sale gate for this SKU and market exists", conflict=True)
    gate = TestSaleGate(shop_id=shop_id, sku=sku, market=market, batch_size=batch_size,
                        started_on=started_on, sessions=0, orders=0, verdict=TESTING)
    db.session.add(gate)
    db.session.flush()
    return gate, True


def _since(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _sku_orders(gate: TestSaleGate):
    """Orders of the gate's shop shipped to its market, holding its SKU, placed since its start."""
    placed = func.coalesce(Order.external_created_at, Order.created_at)
    return (select(Order.id).join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.shop_id == gate.shop_id, Order.shipping_country == gate.market,
                   OrderLine.sku == gate.sku, placed >= _since(gate.started_on))
            .distinct())


def feedback_rates(gate: TestSaleGate) -> tuple[float | None, float | None]:
    """(bad review rate, return rate) of the gate's SKU in its market since its start."""
    orders = _sku_orders(gate).subquery()
    rated, bad = db.session.execute(
        select(func.count(), func.count().filter(OrderFeedback.rating <= BAD_RATING))
        .where(OrderFeedback.shop_id == gate.shop_id, OrderFeedback.order_id.in_(select(orders.c.id)))
    ).one()
    placed, returned = db.session.execute(
        select(func.count(), func.count().filter(or_(Order.cancelled_at.is_not(None),
                                                     Order.financial_status.in_(REFUNDED))))
        .where(Order.id.in_(select(orders.c.id)))
    ).one()
    return (bad / rated if rated else None), (returned / placed if placed else None)


def evaluate(gates: Iterable[TestSaleGate], store: ShopifyStore, *, today: date,
             thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[TestSaleGate]:
    """Recomputes the gates of one shop. One analytics read per distinct start date (each gate
    counts from its own start), so a shop's daily run costs a couple of ShopifyQL queries."""
    by_start: dict[date, list[TestSaleGate]] = defaultdict(list)
    for gate in gates:
        by_start[gate.started_on].append(gate)
    done = []
    for started_on, group in sorted(by_start.items()):
        traffic = {}
        if started_on <= today:
            traffic = {(t.product_id, t.market): t for t in store.get_product_traffic(started_on, today)}
        for gate in group:
            product = product_of(gate.shop_id, gate.sku)
            seen = traffic.get((product, gate.market)) if product else None
            gate.sessions = seen.sessions if seen else 0
            gate.orders = seen.orders if seen else 0
            gate.conversion = gate.orders / gate.sessions if gate.sessions else None
            gate.bad_review_rate, gate.return_rate = feedback_rates(gate)
            gate.verdict = decide(gate.sessions, gate.conversion, gate.bad_review_rate, thresholds)
            gate.evaluated_at = utcnow()
            done.append(gate)
    db.session.flush()
    return done


def open_gates(shop_id: int) -> list[TestSaleGate]:
    return list(db.session.execute(select(TestSaleGate).where(
        TestSaleGate.shop_id == shop_id, TestSaleGate.verdict == TESTING).order_by(TestSaleGate.id)
    ).scalars())


def evaluate_shop(shop_id: int, *, today: date | None = None) -> int:
    """The daily run for one shop: its open gates, evaluated and committed. Returns how many."""
    from integration.shops.shopify_client import store_for

    shop = db.session.get(Shop, shop_id)
    gates = open_gates(shop_id) if shop is not None and shop.status == ShopStatus.INSTALLED else []
    if not gates:
        db.session.rollback()
        return 0
    done = evaluate(gates, store_for(shop), today=today or utcnow().date())
    db.session.commit()
    return len(done)


def shops_with_open_gates() -> list[int]:
    return list(db.session.execute(
        select(TestSaleGate.shop_id).where(TestSaleGate.verdict == TESTING).distinct()
        .order_by(TestSaleGate.shop_id)).scalars())


def stopped(shop_id: int) -> set[tuple[str, str]]:
    """The (sku, market) pairs whose gate says stop stocking: what restock suggestions skip."""
    return set(tuple(row) for row in db.session.execute(select(TestSaleGate.sku, TestSaleGate.market).where(
        and_(TestSaleGate.shop_id == shop_id, TestSaleGate.verdict == STOP))).all())


def gate_json(gate: TestSaleGate) -> dict:
    return {
        "id": gate.id, "sku": gate.sku, "market": gate.market, "batch_size": gate.batch_size,
        "started_on": gate.started_on.isoformat(), "sessions": gate.sessions, "orders": gate.orders,
        "conversion": gate.conversion, "bad_review_rate": gate.bad_review_rate,
        "return_rate": gate.return_rate, "verdict": gate.verdict,
        "evaluated_at": gate.evaluated_at.isoformat() if gate.evaluated_at else None,
    }
