"""Loyalty against the emulators, over real HTTP: a Shopify order shipped by WINIT from the local
(German) warehouse earns double, one shipped by ShipBob from the Netherlands earns single; a refund
webhook reverses the local one; a redemption through the app proxy makes exactly one Shopify code
although the forked worker running its job is SIGKILLed between Shopify's create and our commit
(RQ retries it), and running the job again makes nothing new.
"""

from __future__ import annotations

import os
import signal
import uuid

import pytest
import requests
from rq import Worker
from sqlalchemy import select

from connectors.shopify import operations as shopify
from integration.extensions import QUEUE_NAMES, db
from integration.loyalty import ledger
from integration.loyalty import rewards as loyalty_rewards
from integration.models import Order
from integration.models.loyalty import LoyaltyReward
from jobs import loyalty as loyalty_jobs
from jobs.worker import build_worker
from tests.e2e.test_warehouse_flow import BERLIN_ADDRESS, stack  # noqa: F401 - the fixture
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_loyalty_support import check_invariants, entries_of, make_program, proxy_query, wire

pytestmark = pytest.mark.e2e
DAY = 86400


@pytest.fixture
def loyal(stack):  # noqa: F811

    wire(stack.app)  # before the app's first request
    make_program(stack.ids["shop"], reward_options=[{"points": 40, "amount": "4.00"}])
    return stack


def order_of(gid: str) -> Order:
    db.session.expire_all()
    return db.session.execute(select(Order).where(Order.external_id == gid)).scalar_one()


def refund_payload(order: Order, refund_id: int) -> dict:
    line = order.lines[0]
    line_id = int(line.external_id.rsplit("/", 1)[1])
    return {"id": refund_id, "order_id": int(order.external_id.rsplit("/", 1)[1]),
            "created_at": "2099-01-01T10:00:00+01:00", "processed_at": "2099-01-01T10:00:00+01:00",
            "note": "returned", "restock": True, "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "refund_line_items": [{"id": refund_id + 1, "line_item_id": line_id, "quantity": line.quantity,
                                   "restock_type": "return", "subtotal": str(line.price * line.quantity),
                                   "line_item": {"id": line_id, "sku": line.sku, "quantity": line.quantity}}],
            "transactions": [{"id": refund_id + 2, "kind": "refund", "status": "success",
                              "amount": str(line.price * line.quantity)}]}


def test_local_double_refund_reversal_and_one_code_despite_a_killed_worker(loyal):
    shop_id = loyal.ids["shop"]
    local_gid = loyal.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 2}],
                                        shipping_address=BERLIN_ADDRESS, email="ada@example.com", locale="de")
    far_gid = loyal.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "LAMP", "quantity": 1}],
                                      shipping_address=BERLIN_ADDRESS, email="ada@example.com", locale="de")
    loyal.settle()
    loyal.winit.sim.advance(3 * 3600)
    loyal.shipbob.advance(3 * 3600)
    loyal.settle()
    loyal.poll()
    loyal.winit.sim.advance(2 * DAY)  # carrier events (a parcel earns once, whatever signals it)
    loyal.poll()

    local, far = order_of(local_gid), order_of(far_gid)
    customer = local.customer_external_id
    assert customer and far.customer_external_id == customer
    # 2 x 12.00 shipped from Berlin to Berlin: x2; 49.00 from Venlo to Berlin: x1.
    assert ledger.balance(shop_id, customer) == 24 * 2 + 49
    assert loyalty_jobs.sweep_unearned() == 0  # every parcel earned on its own: nothing for the safety net
    account_id = ledger.find_account(shop_id, customer).id
    earned = {e.detail["warehouse_country"]: e.points for e in entries_of(account_id)}
    assert earned == {"DE": 48, "NL": 49}

    # A refund of the local order, delivered by Shopify twice: reversed once.
    for _ in range(2):
        loyal.shopify.send_webhook(SHOPIFY_SHOP, "refunds/create", refund_payload(local, 9_000_001))
    loyal.settle()
    assert ledger.balance(shop_id, customer) == 49

    # Redeem through the app proxy, as the storefront block does.
    number = int(customer.rsplit("/", 1)[1])
    url = f"{loyal.app.config['NEARSTOCK'].app_url}/proxy/loyalty"
    r = requests.post(f"{url}/redeem?{proxy_query(number)}", json={"points": 40, "request_key": uuid.uuid4().hex},
                      timeout=10)
    assert r.status_code == 202, r.text
    reward_id = r.json()["reward"]["id"]
    assert ledger.balance(shop_id, customer) == 9

    # A forking worker whose work horse dies right after Shopify created the code.
    parent = os.getpid()
    real = shopify.create_basic_discount_code

    def create_then_die(*args, **kwargs):
        created = real(*args, **kwargs)
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return created

    shopify.create_basic_discount_code = create_then_die
    try:
        build_worker(QUEUE_NAMES, worker_class=Worker).work(burst=True, logging_level="WARNING")
    finally:
        shopify.create_basic_discount_code = real
    db.session.expire_all()
    assert db.session.get(LoyaltyReward, reward_id).status == "pending"
    assert len(loyal.shopify.discount_codes(SHOPIFY_SHOP)) == 1  # made at Shopify, not stored by us

    loyal.worker.run()  # RQ's retry of the killed job: finds the code instead of making another
    loyalty_rewards.enqueue_issue(reward_id, suffix="-again")  # and once more, for good measure
    loyal.worker.run()
    db.session.expire_all()
    reward = db.session.get(LoyaltyReward, reward_id)
    [code] = loyal.shopify.discount_codes(SHOPIFY_SHOP)
    assert reward.status == "issued" and reward.code == code["code"] and reward.shopify_id == code["id"]
    assert code["context"] == {"customers": {"add": [customer]}} and code["usageLimit"] == 1

    view = requests.get(f"{url}?{proxy_query(number)}", timeout=10).json()
    assert view["balance"] == 9 and view["rewards"][0]["code"] == code["code"]
    assert check_invariants(ledger.find_account(shop_id, customer).id) == 9
