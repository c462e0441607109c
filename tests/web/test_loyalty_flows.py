"""Earning from parcels (local warehouse double), reversals by refunds and cancellations, tiers,
feedback, birthdays and member days, privacy."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from integration import signals
from integration.extensions import db, queues
from integration.loyalty import admin, earning, ledger
from integration.loyalty import rewards as loyalty_rewards
from integration.loyalty.program import load_rules
from integration.models import ComplianceRequest, Shop
from integration.models.loyalty import LoyaltyAccount, LoyaltyAdjustment, LoyaltyEntry, LoyaltyReward
from integration.models.notification import Notification
from integration.shops import compliance
from tests.helpers import shopify_webhook
from tests.helpers_warehouse import make_account, make_warehouse
from tests.test_loyalty_support import (
    T0,
    account_of,
    check_invariants,
    entries_of,
    gid,
    loyalty_app,  # noqa: F401 - fixture
    make_program,
    make_shop,
    make_tiers,
    shipped_order,
)


@pytest.fixture
def world(loyalty_app):  # noqa: F811
    shop = make_shop()
    account = make_account(shop)
    local = make_warehouse(shop, account, "DEWH", "DE")
    remote = make_warehouse(shop, account, "NLWH", "NL")
    make_program(shop.id)
    return shop, local, remote


def notices(kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.execute(select(Notification).where(Notification.kind == kind)).scalars())


def test_a_parcel_from_the_local_warehouse_earns_double_once(world):
    shop, local, remote = world
    _, near = shipped_order(shop, local, customer=gid(1), lines=(("MUG", 2, "12.50"),))  # 25.00 to DE from DE
    _, far = shipped_order(shop, remote, customer=gid(1), lines=(("MUG", 2, "12.50"),))  # from NL
    assert earning.earn_for_shipment(near.id) == "earned"
    assert earning.earn_for_shipment(near.id) == "already_earned"
    assert earning.earn_for_shipment(far.id) == "earned"
    account = account_of(shop.id, gid(1))
    assert [e.points for e in entries_of(account.id)] == [50, 25]
    assert entries_of(account.id)[0].detail["local"] is True
    assert check_invariants(account.id) == 75
    assert account.email == "ada@example.com" and account.lifetime_earned == 75
    [first, second] = notices("points_earned")
    assert first.recipient == "ada@example.com" and first.context["points"] == 50 and first.locale == "de"
    assert second.context["balance"] == 75


def test_delivered_mode_guests_and_cancelled_orders(world):
    shop, local, _ = world
    program = db.session.execute(select(earning.LoyaltyProgram)).scalar_one()
    program.earn_on = "delivered"
    db.session.commit()
    _, parcel = shipped_order(shop, local, customer=gid(1))
    assert earning.earn_for_shipment(parcel.id) == "waiting_for_delivery"
    parcel.delivered_at = T0 + timedelta(days=2)
    db.session.commit()
    assert earning.earn_for_shipment(parcel.id) == "earned"
    _, guest = shipped_order(shop, local, customer=None)
    guest.delivered_at = T0
    order, cancelled = shipped_order(shop, local, customer=gid(2))
    cancelled.delivered_at = T0
    order.cancelled_at = T0
    db.session.commit()
    assert earning.earn_for_shipment(guest.id) == "not_eligible"
    assert earning.earn_for_shipment(cancelled.id) == "not_eligible"


def test_tracking_signal_earns_through_the_job_and_the_sweep_catches_the_rest(world, worker):
    shop, local, _ = world
    _, signalled = shipped_order(shop, local, customer=gid(1))
    _, silent = shipped_order(shop, local, customer=gid(2))
    signals.shipment_tracking_changed(signalled.id, "InTransit", None)
    db.session.commit()  # the job is enqueued after the commit
    worker.run()
    assert ledger.balance(shop.id, gid(1)) == 50
    silent.created_at = earning.utcnow()
    signalled.created_at = earning.utcnow()
    db.session.commit()
    assert earning.unearned_shipment_ids() == [silent.id]
    from jobs import loyalty as loyalty_jobs

    assert loyalty_jobs.sweep_unearned() == 1
    assert ledger.balance(shop.id, gid(2)) == 50 and earning.unearned_shipment_ids() == []


def refund_body(order, refund_id: int, lines=(), amount: str | None = None, at=T0 + timedelta(days=5)) -> dict:
    number = int(order.external_id.rsplit("/", 1)[1])
    body = {"id": refund_id, "order_id": number, "created_at": at.isoformat(), "processed_at": at.isoformat(),
            "note": "damaged", "restock": False, "refund_line_items": [], "transactions": [],
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}"}
    for line, qty in lines:
        line_id = int(line.external_id.rsplit("/", 1)[1])
        body["refund_line_items"].append({"id": refund_id * 10 + qty, "quantity": qty, "line_item_id": line_id,
                                          "subtotal": str(line.price * qty),
                                          "line_item": {"id": line_id, "sku": line.sku, "quantity": line.quantity}})
    if amount:
        body["transactions"].append({"id": refund_id * 7, "kind": "refund", "status": "success", "amount": amount})
    return body


def test_refunds_reverse_proportionally_once_each(world, client, worker):
    import integration.loyalty.refunds  # noqa: F401 - registers refunds/create

    shop, local, _ = world
    order, parcel = shipped_order(shop, local, customer=gid(1), lines=(("MUG", 2, "12.50"), ("LAMP", 1, "50.00")))
    earning.earn_for_shipment(parcel.id)
    assert ledger.balance(shop.id, gid(1)) == 150  # 75.00 x2
    mug, lamp = sorted(order.lines, key=lambda line: line.sku, reverse=True)
    first = refund_body(order, 501, lines=[(mug, 1)])
    for webhook_id in ("w1", "w1", "w2"):  # a redelivery, and the same refund under another delivery id
        assert shopify_webhook(client, "refunds/create", first, webhook_id=webhook_id).status_code == 200
        worker.run()
    assert ledger.balance(shop.id, gid(1)) == 125  # one mug of 12.50, at x2
    shopify_webhook(client, "refunds/create", refund_body(order, 502, amount="25.00"))  # by amount: 25/75
    worker.run()
    assert ledger.balance(shop.id, gid(1)) == 75
    shopify_webhook(client, "refunds/create", refund_body(order, 503, lines=[(mug, 1), (lamp, 1)]))
    worker.run()
    account = account_of(shop.id, gid(1))
    assert check_invariants(account.id) == 0
    reversed_ = [e for e in entries_of(account.id) if e.kind == "reverse"]
    assert sum(-e.points for e in reversed_) == 150 and {e.reverses_id for e in reversed_} == {
        entries_of(account.id)[0].id}


def test_a_refund_before_the_parcel_earned_is_applied_when_it_does(world):
    from integration.loyalty.refunds import parse_refund, record_refund

    shop, local, _ = world
    order, parcel = shipped_order(shop, local, customer=gid(1), lines=(("MUG", 4, "10.00"),))
    mug = order.lines[0]
    record_refund(shop.id, parse_refund(refund_body(order, 77, lines=[(mug, 1)])))
    db.session.commit()
    earning.earn_for_shipment(parcel.id)
    assert ledger.balance(shop.id, gid(1)) == 60  # earned 80, a quarter refunded


def test_cancellation_reverses_but_never_below_zero(world, worker):
    shop, local, _ = world
    order, parcel = shipped_order(shop, local, customer=gid(1))
    earning.earn_for_shipment(parcel.id)
    account_id = account_of(shop.id, gid(1)).id
    rules = load_rules(shop.id)
    ledger.debit(shop.id, account_id, 30, kind="redeem", source="reward", source_id="x", rule="redeem", rules=rules)
    db.session.commit()
    order.cancelled_at = T0 + timedelta(days=1)
    signals.order_changed(order.id)
    db.session.commit()
    worker.run()
    assert check_invariants(account_id) == 0  # 50 earned, 30 spent: only 20 could be taken back
    [reverse] = [e for e in entries_of(account_id) if e.kind == "reverse"]
    assert reverse.points == -20
    # Points earned later pay back what was owed the next time the order is reconciled.
    _, other = shipped_order(shop, local, customer=gid(1))
    earning.earn_for_shipment(other.id)
    earning.reconcile_order(order.id)
    db.session.commit()
    assert check_invariants(account_id) == 20


def test_tiers_multiply_grant_priority_and_notify(world):
    shop, local, _ = world
    silver, _gold = make_tiers(shop.id, {"name": "Silver", "threshold": Decimal(40), "multiplier": Decimal("1.5"),
                                         "priority_support": True},
                               {"name": "Gold", "threshold": Decimal(1000), "multiplier": Decimal(2)})
    assert not ledger.has_priority(shop.id, gid(1))
    _, first = shipped_order(shop, local, customer=gid(1))
    earning.earn_for_shipment(first.id)
    account = account_of(shop.id, gid(1))
    assert account.tier_id == silver.id and ledger.has_priority(shop.id, "1")
    _, second = shipped_order(shop, local, customer=gid(1))
    earning.earn_for_shipment(second.id)
    assert [e.points for e in entries_of(account.id)] == [50, 75]  # x2 local, then x1.5 tier
    [tier] = notices("tier_reached")
    assert tier.context["tier_name"] == "Silver" and "priority_support" in tier.context["perks"]
    view = admin.customer_view(shop.id, gid(1))
    assert view["tier"]["name"] == "Silver" and view["next_tier"] == {"name": "Gold", "needed": "875"}


def test_feedback_bonus_once_per_order_through_the_feedback_taps(world):
    from integration.feedback import answers

    shop, local, _ = world
    db.session.execute(earning.LoyaltyProgram.__table__.update().values(feedback_bonus=20))
    db.session.commit()
    order, _ = shipped_order(shop, local, customer=gid(1))
    answers.record_tap(order, 5)
    answers.record_tap(order, 4)  # a second tap updates the rating: no second bonus
    assert ledger.balance(shop.id, gid(1)) == 20


def test_birthdays_and_member_days_make_perks_once(world):
    shop, _, _ = world
    db.session.execute(earning.LoyaltyProgram.__table__.update().values(
        birthday_bonus=100, signup_bonus=10, member_days=[15], birthday_gift={"amount": "10.00"}))
    db.session.commit()
    make_tiers(shop.id, {"name": "Member", "threshold": Decimal(0), "free_shipping_days": True,
                         "birthday_gift": True})
    admin.join(shop.id, gid(1), birthday="1990-04-15")
    admin.join(shop.id, gid(2), birthday="12-24")
    with pytest.raises(ledger.LoyaltyError):
        admin.join(shop.id, gid(1), birthday="05-01")  # set once
    shop = db.session.get(Shop, shop.id)
    now = T0.replace(month=4, day=15, hour=8)
    for _ in range(2):
        assert loyalty_rewards.run_birthdays(shop, date(2026, 4, 15), now) == 1
        loyalty_rewards.schedule_member_days(shop, now)
    assert ledger.balance(shop.id, gid(1)) == 110 and ledger.balance(shop.id, gid(2)) == 10
    rewards = db.session.execute(select(LoyaltyReward).order_by(LoyaltyReward.id)).scalars().all()
    assert sorted((r.kind, r.period) for r in rewards) == [
        ("birthday_gift", "2026"), ("free_shipping", "2026-04-15"), ("free_shipping", "2026-04-15")]
    assert all(r.code and r.status == "pending" for r in rewards)
    assert len({r.code for r in rewards}) == 3
    assert sum(1 for j in queues["sync"].get_job_ids() if j.startswith("loyalty-reward-")) == 3


def test_redact_removes_the_ledger_identity_and_export_includes_it(world):
    shop, local, _ = world
    _, parcel = shipped_order(shop, local, customer=gid(1), email="ada@example.com")
    earning.earn_for_shipment(parcel.id)
    admin.join(shop.id, gid(1), birthday="07-14")
    admin.adjust(shop.id, gid(1), 5, "Ada Lovelace called about a late parcel", actor="42")
    shop = db.session.get(Shop, shop.id)
    from integration.domain.orders import PrivacyRequest

    export = compliance.data_request(shop, PrivacyRequest(shop_domain=shop.domain, customer_id=gid(1),
                                                          email="ada@example.com"))
    accounts = export.export["records"]["loyalty_accounts"]
    assert accounts[0]["balance"] == 55 and len(accounts[0]["related"]["loyalty_entries"]) == 2
    assert export.export["records"]["loyalty_adjustments"][0]["reason"].startswith("Ada")
    db.session.commit()

    counts = compliance.redact_customer(shop, gid(1), "ada@example.com")
    db.session.commit()
    assert counts["loyalty_accounts"] == 1 and counts["loyalty_adjustments"] == 1
    db.session.expire_all()
    account = db.session.execute(select(LoyaltyAccount)).scalar_one()
    assert (account.customer_external_id, account.email, account.birthday, account.locale) == (None, None, None, None)
    assert account.redacted_at is not None and account.balance == 55  # the program's totals still add up
    adjustment = db.session.execute(select(LoyaltyAdjustment)).scalar_one()
    assert adjustment.reason is None and adjustment.customer_external_id is None
    assert db.session.scalar(select(func.count()).select_from(LoyaltyEntry)) == 2
    assert ledger.find_account(shop.id, gid(1)) is None and not ledger.has_priority(shop.id, gid(1))
    assert admin.totals(shop.id)["outstanding_points"] == 55
    assert db.session.scalar(select(func.count()).select_from(ComplianceRequest)) == 2
    assert {LoyaltyAccount, LoyaltyAdjustment} <= set(compliance.customer_models())


def test_tiers_drop_as_months_leave_the_window_and_every_cron_job_runs(world):
    from jobs import loyalty as loyalty_jobs

    shop, local, _ = world
    [silver] = make_tiers(shop.id, {"name": "Silver", "threshold": Decimal(40)})
    _, parcel = shipped_order(shop, local, customer=gid(1))
    earning.earn_for_shipment(parcel.id)
    account = account_of(shop.id, gid(1))
    assert account.tier_id == silver.id
    assert admin.reevaluate_shop(shop.id, tiered_only=True, now=earning.utcnow()) == 1
    assert account_of(shop.id, gid(1)).tier_id == silver.id
    thirteen_months = earning.utcnow() + timedelta(days=400)
    admin.reevaluate_shop(shop.id, tiered_only=True, now=thirteen_months)
    assert account_of(shop.id, gid(1)).tier_id is None
    assert ledger.balance(shop.id, gid(1)) == 50  # points stay; only the tier follows the window
    for name in ("sweep_unearned", "expire_points", "close_expired_rewards", "requeue_pending_rewards",
                 "member_days", "birthdays", "roll_tiers"):
        getattr(loyalty_jobs, name)()
