"""The "priority after-sales" loyalty perk: a member's return is approved without the merchant and
its jobs run on the queue the workers serve first; a customer without the perk waits for the
merchant. The order names the customer by number, the loyalty account by gid: both are one person."""

from __future__ import annotations

from rq import Queue

from integration import job_catalog
from integration.extensions import db, redis
from integration.models import Return
from integration.models.loyalty import LoyaltyAccount, LoyaltyTier
from tests.returns_support import after_sales_shop, request_return, shipped_order


def member(shop, customer_gid: str, *, priority: bool) -> None:
    tier = LoyaltyTier(shop_id=shop.id, name="Gold" if priority else "Silver", priority_support=priority)
    db.session.add(tier)
    db.session.flush()
    db.session.add(LoyaltyAccount(shop_id=shop.id, customer_external_id=customer_gid, tier_id=tier.id,
                                  balance=0, lifetime_earned=0))
    db.session.commit()


def test_a_priority_member_is_approved_at_once_and_handled_first(app, winit_emulator):
    with app.app_context():
        shop, _account, _us, de = after_sales_shop(winit_emulator.url)
        vip, _, _ = shipped_order(shop, de, "gid://shopify/Order/1001")
        regular, _, _ = shipped_order(shop, de, "gid://shopify/Order/1002")
        vip.customer_external_id, regular.customer_external_id = "555", "777"
        db.session.commit()
        member(shop, "gid://shopify/Customer/555", priority=True)
        member(shop, "gid://shopify/Customer/777", priority=False)

        vip_return = db.session.get(Return, request_return(shop, vip, number=1))
        regular_return = db.session.get(Return, request_return(shop, regular, number=2))

        assert (vip_return.priority, vip_return.status, vip_return.decided_by) == (True, "approved", "priority")
        assert (regular_return.priority, regular_return.status) == (False, "requested")
        first = Queue("events", connection=redis.client)
        assert job_catalog.approve_return_id(vip_return.id) in first.job_ids
        assert job_catalog.approve_return_id(regular_return.id) not in Queue("sync", connection=redis.client).job_ids
