"""Reward and perk codes against the Shopify emulator: one code per reward whatever the retries,
refused codes and expired unused codes give their points back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.errors import PermanentError
from connectors.shopify import operations as shopify
from integration import create_app
from integration.extensions import db
from integration.loyalty import admin, ledger, rewards
from integration.models import Shop
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyReward
from tests.conftest import make_config
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_loyalty_support import account_of, check_invariants, gid, make_program


@pytest.fixture
def stack(tmp_path, database_url, redis_url, redis_conn, shopify_emulator):
    app = create_app(make_config(tmp_path, database_url, redis_url, SHOPIFY_ENDPOINT=shopify_emulator.url))
    with app.app_context():
        token = shopify_emulator.grant_token(SHOPIFY_SHOP, shopify_emulator.oauth.default_scopes)
        shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed", currency="EUR")
        db.session.add(shop)
        db.session.commit()
        make_program(shop.id)
        admin.adjust(shop.id, gid(5), 300, "seed", actor="test")
        yield shop, shopify_emulator
        db.session.remove()
    db.engine.dispose()


def test_a_redemption_makes_one_customer_scoped_code_even_when_retried(stack, monkeypatch):
    shop, emulator = stack
    reward = rewards.redeem(shop, gid(5), 100)
    assert ledger.balance(shop.id, gid(5)) == 200  # held at once

    real = shopify.create_basic_discount_code

    def create_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise SystemExit("worker killed after Shopify created the code")

    monkeypatch.setattr(shopify, "create_basic_discount_code", create_then_crash)
    with pytest.raises(SystemExit):
        rewards.issue_reward(reward.id)
    db.session.rollback()
    monkeypatch.undo()
    assert db.session.get(LoyaltyReward, reward.id).status == "pending"
    assert len(emulator.discount_codes(SHOPIFY_SHOP)) == 1  # Shopify has it, we do not know yet
    assert rewards.issue_reward(reward.id) == "issued"  # the retry finds the code
    assert rewards.issue_reward(reward.id) == "issued"
    [code] = emulator.discount_codes(SHOPIFY_SHOP)
    db.session.expire_all()
    stored = db.session.get(LoyaltyReward, reward.id)
    assert code["code"] == stored.code and stored.shopify_id == code["id"]
    assert code["context"] == {"customers": {"add": [gid(5)]}} and code["usageLimit"] == 1
    assert code["customerGets"]["value"] == {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}}
    assert code["endsAt"] and code["appliesOncePerCustomer"] is True


def test_a_refused_code_gives_the_points_back(stack, monkeypatch):
    shop, _ = stack
    reward = rewards.redeem(shop, gid(5), 100)

    def refuse(*args, **kwargs):
        raise PermanentError("Code must be unique", code="TAKEN", system="shopify")

    monkeypatch.setattr(shopify, "create_basic_discount_code", refuse)
    assert rewards.issue_reward(reward.id) == "failed"
    assert ledger.balance(shop.id, gid(5)) == 300
    assert check_invariants(account_of(shop.id, gid(5)).id) == 300
    assert rewards.issue_reward(reward.id) == "failed"


def test_expired_codes_return_unused_points_and_close_used_ones(stack):
    shop, emulator = stack
    unused = rewards.redeem(shop, gid(5), 100)
    used = rewards.redeem(shop, gid(5), 100)
    for reward in (unused, used):
        assert rewards.issue_reward(reward.id) == "issued"
    emulator.use_discount_code(SHOPIFY_SHOP, used.code)  # a customer checked out with it
    later = utcnow() + timedelta(days=31)
    counts = rewards.close_expired(later)  # Shopify's asyncUsageCount decides
    assert counts == {"returned": 1, "used": 1, "expired": 0, "unknown": 0}
    assert ledger.balance(shop.id, gid(5)) == 200
    assert rewards.close_expired(later) == {"returned": 0, "used": 0, "expired": 0, "unknown": 0}
    assert check_invariants(account_of(shop.id, gid(5)).id) == 200
    statuses = dict(db.session.execute(select(LoyaltyReward.id, LoyaltyReward.status)).all())
    assert statuses == {unused.id: "returned", used.id: "used"}


def test_member_day_code_is_free_shipping(stack):
    shop, emulator = stack
    account_id = account_of(shop.id, gid(5)).id
    now = utcnow()
    reward_id = rewards._perk(shop, account_id, "free_shipping", now.date().isoformat(), now,
                                      now + timedelta(days=1))
    db.session.commit()
    assert rewards.issue_reward(reward_id) == "issued"
    [code] = emulator.discount_codes(SHOPIFY_SHOP)
    assert code["kind"] == "free_shipping" and code["code"].startswith("NSF-")
    assert code["context"] == {"customers": {"add": [gid(5)]}}
