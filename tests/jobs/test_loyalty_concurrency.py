"""Concurrent redemptions and earns for one customer, from many threads, each with its own
database connection and transaction: no lost update, no double spend, no event posted twice.

Meant for PostgreSQL (run with TEST_DATABASE_URL): there the account row lock orders the posts.
It runs on SQLite too, where the database write lock does.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from integration.domain import loyalty as domain
from integration.extensions import db
from integration.loyalty import ledger, rewards
from integration.loyalty.program import load_rules
from integration.models import Shop
from integration.models.loyalty import LoyaltyEntry, LoyaltyLot, LoyaltyLotUse, LoyaltyReward
from tests.test_loyalty_support import account_of, check_invariants, gid, make_program, make_shop

THREADS = 8
ROUNDS = 12


def run_threads(app, target, count=THREADS):
    barrier = threading.Barrier(count)
    results: list = []
    errors: list = []

    def body(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.extend(target(i))
            except Exception as exc:  # surfaced by the assertion below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return results


@pytest.fixture
def customer(app):
    shop = make_shop()
    make_program(shop.id, reward_options=[{"points": 70, "amount": "3.50"}])
    rules = load_rules(shop.id)
    account_id = ledger.ensure_account(shop.id, gid(1), rules=rules)
    for i in range(10):  # ten lots of 100
        ledger.credit(shop.id, account_id, 100, kind=domain.EARN, source="seed", source_id=str(i), rule="seed",
                       rules=rules)
    db.session.commit()
    return shop.id, account_id


def test_concurrent_redemptions_and_earns_never_lose_an_update_or_spend_twice(app, customer):
    shop_id, account_id = customer

    def work(i: int) -> list[tuple[str, int]]:
        shop = db.session.get(Shop, shop_id)
        rules = load_rules(shop_id)
        done = []
        for n in range(ROUNDS):
            if (i + n) % 3 == 0:
                ledger.credit(shop_id, account_id, 10, kind=domain.EARN, source="load", source_id=f"{i}-{n}",
                               rule="earn", rules=rules)
                db.session.commit()
                done.append(("earn", 10))
            else:
                try:
                    rewards.redeem(shop, gid(1), 70)
                    done.append(("redeem", 70))
                except ledger.InsufficientPointsError:
                    done.append(("refused", 0))
        return done

    outcomes = run_threads(app, work)
    tally = Counter(kind for kind, _ in outcomes)
    earned = sum(p for kind, p in outcomes if kind == "earn")
    spent = sum(p for kind, p in outcomes if kind == "redeem")
    assert tally["redeem"] > 0 and tally["earn"] > 0
    balance = check_invariants(account_id)
    assert balance == 1000 + earned - spent  # every committed post is in the balance: no lost update
    assert spent <= 1000 + earned  # no double spend
    if tally["refused"]:
        assert balance < 70  # refused only when the points were really gone
    assert db.session.scalar(select(func.count()).select_from(LoyaltyReward)) == tally["redeem"]
    # No lot was ever spent beyond what it held.
    per_lot = dict(db.session.execute(select(LoyaltyLotUse.lot_id, func.sum(LoyaltyLotUse.points))
                                      .group_by(LoyaltyLotUse.lot_id)).all())
    for lot in db.session.execute(select(LoyaltyLot)).scalars():
        assert per_lot.get(lot.id, 0) == lot.points - lot.remaining


def test_the_same_event_posted_concurrently_counts_once(app, customer):
    shop_id, account_id = customer

    def work(i: int) -> list:
        rules = load_rules(shop_id)
        posted = ledger.credit(shop_id, account_id, 25, kind=domain.EARN, source="shipment", source_id="42",
                                rule="purchase", rules=rules)
        db.session.commit()
        return [posted is not None]

    assert sorted(run_threads(app, work)) == [False] * (THREADS - 1) + [True]
    assert check_invariants(account_id) == 1025
    assert db.session.scalar(select(func.count()).where(LoyaltyEntry.source == "shipment")) == 1
    assert account_of(shop_id, gid(1)).balance == 1025


def test_two_refunds_of_one_order_at_once_both_reverse(app, customer):
    from datetime import timedelta
    from decimal import Decimal

    from integration.loyalty.refunds import RefundData, record_refund
    from integration.models import Order
    from integration.models.base import utcnow

    shop_id, account_id = customer
    rules = load_rules(shop_id)
    order = Order(shop_id=shop_id, external_id="gid://shopify/Order/77", customer_external_id=gid(1),
                  total_price=Decimal(100))
    db.session.add(order)
    db.session.flush()
    shipped = utcnow() - timedelta(days=1)
    ledger.credit(shop_id, account_id, 200, kind=domain.EARN, source="shipment", source_id="77", rule="purchase",
                   rules=rules, amount=Decimal(100), order_id=order.id,
                   detail={"lines": [["A", 4, "100"]], "shipped_at": shipped.isoformat()})
    db.session.commit()

    def work(i: int) -> list:
        refund = RefundData(f"gid://shopify/Refund/{900 + i}", order.external_id, utcnow(), (("A", None, 1),),
                            Decimal(0))
        record_refund(shop_id, refund)
        db.session.commit()
        return [i]

    run_threads(app, work, count=2)
    reversed_points = -db.session.scalar(select(func.sum(LoyaltyEntry.points)).where(LoyaltyEntry.kind == "reverse"))
    assert reversed_points == 100  # a quarter each, neither lost to the other's stale view
    assert check_invariants(account_id) == 1100
