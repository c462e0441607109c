"""Property tests of the ledger on the real database (SQLite, and PostgreSQL when configured):
random sequences of earns, repeated events, redemptions, adjustments, refunds (repeated, partial,
late), cancellations, expiry and returned redemptions. After every step the balance equals the sum
of the entries and of the open lots and is never negative; every debit took its points oldest lot
first; no earn is ever reversed beyond its points, and reconciling again reverses nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from integration.domain import loyalty as domain
from integration.extensions import db
from integration.loyalty import earning
from integration.loyalty import expiry as loyalty_expiry
from integration.loyalty import ledger as loyalty
from integration.loyalty.program import load_rules
from integration.loyalty.refunds import RefundData, record_refund
from integration.models import Order
from integration.models.loyalty import LoyaltyLot, LoyaltyLotUse
from tests.test_loyalty_support import T0, check_invariants, entries_of, gid, make_program, make_shop

_customers = itertools.count(1)

EVENTS = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 300)),
    st.tuples(st.just("repeat_earn"), st.integers(0, 30)),
    st.tuples(st.just("redeem"), st.integers(1, 400)),
    st.tuples(st.just("adjust"), st.integers(-200, 200).filter(bool)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 4)),
    st.tuples(st.just("refund_amount"), st.integers(0, 30), st.integers(1, 300)),
    st.tuples(st.just("repeat_refund"), st.integers(0, 30)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("advance"), st.integers(1, 45)),
    st.tuples(st.just("give_back"), st.integers(0, 30)),
)


class Run:
    def __init__(self, shop_id: int) -> None:
        self.shop_id = shop_id
        self.customer = gid(next(_customers))
        self.rules = load_rules(shop_id)
        self.account_id = loyalty.ensure_account(shop_id, self.customer, rules=self.rules, now=T0)
        db.session.commit()
        self.now = T0
        self.keys: list[str] = []
        self.orders: list[Order] = []
        self.refunds: list[RefundData] = []
        self.redeems: list[int] = []
        self.seq = itertools.count(1)

    def balance(self) -> int:
        return loyalty.balance(self.shop_id, self.customer)

    def step(self, event: tuple) -> None:
        kind, *args = event
        getattr(self, kind)(*args)
        db.session.commit()

    def earn(self, amount: int) -> None:
        n = next(self.seq)
        order = Order(shop_id=self.shop_id, external_id=f"gid://shopify/Order/{self.account_id}{n:04d}",
                      customer_external_id=self.customer, total_price=Decimal(amount), shipping_country="DE")
        db.session.add(order)
        db.session.flush()
        key = f"sim-{self.account_id}-{n}"
        posted = loyalty.credit(self.shop_id, self.account_id, amount, kind=domain.EARN, source="shipment",
                                source_id=key, rule="purchase", rules=self.rules, now=self.now,
                                amount=Decimal(amount), order_id=order.id,
                                detail={"lines": [["A", 4, str(amount)]], "shipped_at": self.now.isoformat()})
        assert posted is not None and posted.points == amount
        self.keys.append(key)
        self.orders.append(order)

    def repeat_earn(self, i: int) -> None:
        if not self.keys:
            return
        before = self.balance()
        again = loyalty.credit(self.shop_id, self.account_id, 999, kind=domain.EARN, source="shipment",
                               source_id=self.keys[i % len(self.keys)], rule="purchase", rules=self.rules, now=self.now)
        assert again is None and self.balance() == before  # a repeated event never earns twice

    def redeem(self, points: int) -> None:
        before = self.balance()
        open_before = dict(db.session.execute(select(LoyaltyLot.id, LoyaltyLot.remaining).where(
            LoyaltyLot.account_id == self.account_id, LoyaltyLot.remaining > 0)).all())
        try:
            posted = loyalty.debit(self.shop_id, self.account_id, points, kind=domain.REDEEM, source="reward",
                                   source_id=f"r-{self.account_id}-{next(self.seq)}", rule="redeem",
                                   rules=self.rules, now=self.now)
        except loyalty.InsufficientPointsError:
            db.session.rollback()
            assert before < points and self.balance() == before
            return
        assert before >= points and self.balance() == before - points
        used = dict(db.session.execute(select(LoyaltyLotUse.lot_id, LoyaltyLotUse.points)
                                       .where(LoyaltyLotUse.entry_id == posted.entry_id)).all())
        newest = max(used)
        for lot_id, remaining in open_before.items():  # oldest first: everything older was drained
            if lot_id < newest:
                assert used.get(lot_id) == remaining
        self.redeems.append(posted.entry_id)

    def adjust(self, points: int) -> None:
        common = {"kind": domain.ADJUST, "source": "admin", "source_id": f"a-{self.account_id}-{next(self.seq)}",
                  "rule": "adjust", "rules": self.rules, "now": self.now}
        if points > 0:
            loyalty.credit(self.shop_id, self.account_id, points, **common)
        else:
            try:
                loyalty.debit(self.shop_id, self.account_id, -points, **common)
            except loyalty.InsufficientPointsError:
                db.session.rollback()

    def _refund(self, i: int, refund: RefundData) -> None:
        self.refunds.append(refund)
        assert record_refund(self.shop_id, refund)
        self._reconcile_again(self.orders[i % len(self.orders)].id)

    def _reconcile_again(self, order_id: int) -> None:
        before = self.balance()
        assert earning.reconcile_order(order_id) == 0 and self.balance() == before

    def refund(self, i: int, units: int) -> None:
        if self.orders:
            order = self.orders[i % len(self.orders)]
            self._refund(i, RefundData(f"gid://shopify/Refund/{self.account_id}{next(self.seq):05d}",
                                       order.external_id, self.now + timedelta(hours=1), (("A", None, units),),
                                       Decimal(0)))

    def refund_amount(self, i: int, amount: int) -> None:
        if self.orders:
            order = self.orders[i % len(self.orders)]
            self._refund(i, RefundData(f"gid://shopify/Refund/{self.account_id}{next(self.seq):05d}",
                                       order.external_id, self.now + timedelta(hours=1), (), Decimal(amount)))

    def repeat_refund(self, i: int) -> None:
        if self.refunds:
            before = self.balance()
            assert not record_refund(self.shop_id, self.refunds[i % len(self.refunds)])
            assert self.balance() == before

    def cancel(self, i: int) -> None:
        if self.orders:
            order = self.orders[i % len(self.orders)]
            order.cancelled_at = self.now
            db.session.flush()
            earning.reconcile_order(order.id, now=self.now)
            self._reconcile_again(order.id)

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)
        loyalty_expiry.expire_due(self.now)

    def give_back(self, i: int) -> None:
        if self.redeems:
            entry_id = self.redeems[i % len(self.redeems)]
            before = self.balance()
            first = loyalty.give_back(self.shop_id, self.account_id, entry_id, source="reward",
                                      source_id=f"back-{entry_id}", rule="return", rules=self.rules, now=self.now)
            again = loyalty.give_back(self.shop_id, self.account_id, entry_id, source="reward",
                                      source_id=f"back-{entry_id}", rule="return", rules=self.rules, now=self.now)
            assert again is None
            if first is not None:
                assert self.balance() == before + first.points


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(EVENTS, min_size=1, max_size=30))
def test_random_event_sequences_keep_the_ledger_consistent(app, events):
    shop = _shop()
    run = Run(shop)
    for event in events:
        run.step(event)
        check_invariants(run.account_id)
    # The final balance is also what the entries say, kind by kind.
    kinds = {e.kind for e in entries_of(run.account_id)}
    assert kinds <= set(domain.KINDS)


def _shop() -> int:
    from integration.models import Shop

    shop = db.session.execute(select(Shop).where(Shop.domain == "acme.myshopify.com")).scalar_one_or_none()
    if shop is None:
        shop = make_shop()
        make_program(shop.id, points_expiry_days=30)
    return shop.id


def test_expiry_takes_only_what_is_left_of_the_due_lot(app):
    shop = make_shop()
    make_program(shop.id, points_expiry_days=30)
    rules = load_rules(shop.id)
    account = loyalty.ensure_account(shop.id, gid(1), rules=rules, now=T0)
    for day, points in ((0, 100), (10, 50)):
        loyalty.credit(shop.id, account, points, kind=domain.EARN, source="test", source_id=str(day), rule="x",
                       rules=rules, now=T0 + timedelta(days=day))
    loyalty.debit(shop.id, account, 70, kind=domain.REDEEM, source="test", source_id="r", rule="redeem",
                  rules=rules, now=T0 + timedelta(days=11))
    db.session.commit()
    assert loyalty_expiry.expire_due(T0 + timedelta(days=30)) == 30  # the first lot's 30 left
    assert loyalty_expiry.expire_due(T0 + timedelta(days=30)) == 0
    assert check_invariants(account) == 50
    assert loyalty_expiry.expire_due(T0 + timedelta(days=41)) == 50
    assert check_invariants(account) == 0
    assert [e.kind for e in entries_of(account)] == ["earn", "earn", "redeem", "expire", "expire"]
