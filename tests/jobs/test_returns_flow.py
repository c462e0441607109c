"""Returns end to end against the emulators (issue #23): a German customer's return request at
Shopify -> approved -> RMA at the DE warehouse (not the US one) -> received, inspected ->
restocked on the ledger and at Shopify -> refunded in Shopify -> the customer's notices in German,
each once; an exchange (the new item leaves DE); a reship of a parcel the carrier lost. Every job
runs again, and one of each flow dies half-way (after the vendor's answer, before our commit):
still one RMA, one refund, one replacement outbound, one notice of each kind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from integration.extensions import db
from integration.models import OutboundOrder, Reship, Return, ReturnLine, Shipment, Shop
from integration.models.notification import Notification
from integration.returns import approval, decisions, receipt, reships, settlement
from integration.shops import shopify_client
from integration.warehouses import providers
from jobs import returns as return_jobs
from sandbox.shopify.return_payloads import return_payload
from tests.jobs.returns_stack import (
    EMAIL,
    ReturnsStack,
    make_stack,  # noqa: F401 - the fixture
    notices,
    on_hand,
    the_return,
)
from tests.sandbox.test_shopify_emulator_returns import APPROVE, DECLINE, GET, gql
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_notif_support import smtp_server  # noqa: F401 - the fixture


class Killed(BaseException):
    """The worker dies between the vendor's answer and our commit."""


def shopify_return(stack: ReturnsStack, gid: str) -> dict:
    """The return as Shopify holds it (read with the shop's own token)."""
    return gql(stack.shopify, db.session.get(Shop, stack.ids["shop"]).access_token, GET, {"id": gid})["return"]


def request_return(stack: ReturnsStack, order_gid: str, sku: str = "MUG-BLUE", reason: str = "size-too-small") -> str:
    """The customer asks from their account; the webhook comes in, and once more (a redelivery)."""
    gid = stack.shopify.request_customer_return(SHOPIFY_SHOP, order_gid, [
        {"sku": sku, "quantity": 1, "reason": reason, "note": "Zu klein"}], email=EMAIL)
    stack.settle()
    with stack.shopify.lock:
        state = stack.shopify.shop(SHOPIFY_SHOP)
        body = return_payload(state, state.nodes[gid])
    stack.shopify.send_webhook(SHOPIFY_SHOP, "returns/request", {**body, "status": "requested"})
    stack.settle()
    return gid


def sent(subject: str) -> dict[str, int]:
    """Notices of ``subject`` by kind: how many rows (always one each), all sent, in German."""
    rows = notices(subject)
    assert all(n.status == "sent" and n.locale == "de" and n.recipient == EMAIL for n in rows), [
        (n.kind, n.status, n.locale) for n in rows]
    counts: dict[str, int] = {}
    for n in rows:
        counts[n.kind] = counts.get(n.kind, 0) + 1
    return counts


def mails(stack: ReturnsStack, kind: str) -> list:
    """The e-mails of one notice kind the customer's mail server accepted."""
    ids = {f"{n.id} {n.kind}" for n in db.session.execute(select(Notification).where(Notification.kind == kind))
           .scalars()}
    found = [m for m in stack.smtp.inbox.messages if m["To"] == EMAIL and any(i in str(m) for i in ids)]
    assert all(m["Content-Language"] == "de" for m in found)
    return found


def test_a_german_return_is_authorized_in_de_restocked_refunded_and_told_once_each(make_stack, monkeypatch):  # noqa: F811
    stack = make_stack(auto_approve=True)
    order_gid, order_id = stack.place_order()
    [outbound] = db.session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order_id)).scalars()
    assert outbound.warehouse_id == stack.ids["de"]
    stack.ship(order_id)
    stack.deliver()

    return_gid = request_return(stack, order_gid)
    ret = the_return()
    assert ret.shopify_return_id == return_gid and db.session.scalar(select(func.count()).select_from(Return)) == 1
    assert ret.status == "authorized" and ret.warehouse_id == stack.ids["de"] and ret.decided_by == "rules"
    line = db.session.execute(select(ReturnLine)).scalar_one()
    assert (line.sku, line.quantity, line.reason) == ("MUG-BLUE", 1, "SIZE_TOO_SMALL")
    [rma] = stack.winit.sim.returns.values()
    assert rma.warehouse == "DEWH" and rma.reference == ret.rma_reference and rma.lines == [("MUG-BLUE", 1)]
    assert ret.address["country_code"] == "DE"
    assert shopify_return(stack, return_gid)["status"] == "OPEN"

    # Every job again: nothing new.
    assert return_jobs.approve_return(ret.id) == "authorized"
    stack.follow_returns()  # the RMA is still on its way
    assert len(stack.winit.sim.returns) == 1 and sent(f"return:{ret.id}") == {"return_approved": 1}

    stack.winit.sim.receive_return(ret.rma_reference)
    stack.follow_returns()
    stack.follow_returns()
    assert the_return().status == "received"
    # Inspection takes its time: the customer hears it is under way, once.
    with db.session.begin_nested():
        the_return().received_at -= receipt.INSPECTING_NOTICE_AFTER
    db.session.commit()
    stack.follow_returns()
    stack.follow_returns()
    assert sent(f"return:{ret.id}") == {"return_approved": 1, "return_received": 1, "return_inspecting": 1}

    before = on_hand(stack.ids["de"], "MUG-BLUE")
    stack.winit.sim.inspect_return(ret.rma_reference, {"MUG-BLUE": ["sellable"]})
    # The poll records the inspection (and queues the settlement); the settlement dies after
    # Shopify refunded, before our commit.
    assert receipt.poll_return(ret.id) == "inspected"
    real = shopify_client.store_for

    def dying(shop):
        store = real(shop)
        process = store.process_return

        def process_then_die(*args, **kwargs):
            process(*args, **kwargs)
            raise Killed

        store.process_return = process_then_die
        return store

    monkeypatch.setattr(settlement, "store_for", dying)
    with pytest.raises(Killed):
        settlement.settle(ret.id)
    db.session.rollback()
    monkeypatch.setattr(settlement, "store_for", real)
    stack.settle()  # the queued settlement, the restock's stock poll and its Shopify push, the notices
    assert return_jobs.settle_return(ret.id) == "closed"
    assert return_jobs.poll_return(ret.id) == "closed"
    stack.follow_returns()

    ret = the_return()
    assert ret.status == "closed" and ret.refund_id and str(ret.refund_amount) == "12.50"
    [line] = db.session.execute(select(ReturnLine)).scalars()
    assert (line.received, line.sellable, line.written_off) == (1, 1, 0)
    # Back on the ledger, and on Shopify's Berlin location.
    assert on_hand(stack.ids["de"], "MUG-BLUE") == before + 1
    assert stack.shopify.inventory_quantity(SHOPIFY_SHOP, stack.ids["items"]["MUG-BLUE"], stack.ids["berlin"]) == (
        stack.winit.sim._stock_of("DEWH", "MUG-BLUE").on_hand)
    refunds = shopify_return(stack, return_gid)["refunds"]["nodes"]
    assert len(refunds) == 1 and refunds[0]["note"] == f"nearstock:{settlement.process_key(ret.id)}"
    assert refunds[0]["totalRefundedSet"]["presentmentMoney"]["amount"] == "12.50"
    assert sent(f"return:{ret.id}") == {"return_approved": 1, "return_received": 1, "return_inspecting": 1,
                                        "refund_processed": 1}
    for kind in ("return_approved", "return_received", "return_inspecting", "refund_processed"):
        assert len(mails(stack, kind)) == 1, kind


def test_an_exchange_sends_the_new_item_from_de_once_after_an_approval_died_half_way(make_stack, monkeypatch):  # noqa: F811
    stack = make_stack(auto_approve=False)
    order_gid, order_id = stack.place_order()
    stack.ship(order_id)
    stack.deliver()
    request_return(stack, order_gid, reason="color")
    ret = the_return()
    assert ret.status == "requested" and not stack.winit.sim.returns  # waits for the merchant
    line = db.session.execute(select(ReturnLine)).scalar_one()
    assert line.reason == "COLOR"

    decisions.approve(stack.ids["shop"], ret.id, kind="exchange", exchanges={line.id: "MUG-RED"})
    real = providers.provider_for_warehouse

    def dying(warehouse):
        provider = real(warehouse)
        create = provider.create_return

        def create_then_die(request):
            create(request)
            raise Killed

        provider.create_return = create_then_die
        return provider

    monkeypatch.setattr(approval, "provider_for_warehouse", dying)
    with pytest.raises(Killed):
        approval.approve(ret.id)
    db.session.rollback()
    monkeypatch.setattr(approval, "provider_for_warehouse", real)
    stack.settle()  # the queued approval runs again
    assert return_jobs.approve_return(ret.id) == "authorized"
    ret = the_return()
    assert ret.status == "authorized" and ret.decided_by == "merchant" and ret.kind == "exchange"
    [rma] = stack.winit.sim.returns.values()
    assert rma.warehouse == "DEWH"

    stack.winit.sim.inspect_return(ret.rma_reference, "sellable")
    stack.follow_returns()
    assert return_jobs.settle_return(ret.id) == "closed"
    stack.follow_returns()
    ret = the_return()
    assert ret.status == "closed" and ret.refund_id is None and ret.outbound_id
    replacement = db.session.get(OutboundOrder, ret.outbound_id)
    assert replacement.purpose == f"return:{ret.id}" and replacement.warehouse_id == stack.ids["de"]
    assert replacement.status == "pushed"
    sim_order = stack.winit.sim.orders[replacement.reference]
    assert sim_order.lines == [("MUG-RED", 1)] and sim_order.warehouse == "DEWH"
    assert db.session.scalar(select(func.count()).select_from(OutboundOrder)) == 2
    assert shopify_return(stack, ret.shopify_return_id)["refunds"]["nodes"] == []

    stack.winit.sim.advance(3 * 3600)
    stack.poll_outbounds()
    stack.poll_outbounds()
    assert len(stack.shopify.fulfillments(SHOPIFY_SHOP)) == 1  # the order's own; a replacement is not one
    assert sent(f"return:{ret.id}") == {"return_approved": 1, "return_received": 1, "replacement_shipped": 1}
    replacement_parcel = db.session.execute(select(Shipment).where(Shipment.outbound_id == replacement.id)
                                            ).scalar_one()
    assert notices(f"shipment:{replacement_parcel.id}") == []  # no ordinary "shipped" notice for it
    assert len(mails(stack, "replacement_shipped")) == 1


def test_a_parcel_the_carrier_lost_is_reshipped_from_de_once(make_stack, monkeypatch):  # noqa: F811
    stack = make_stack()
    _order_gid, order_id = stack.place_order()
    parcel = stack.ship(order_id)
    outbound = db.session.get(OutboundOrder, parcel.outbound_id)
    real = reships.send_replacement

    def send_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise Killed

    # The carrier loses the parcel; the automatic reship dies after the replacement was recorded.
    stack.winit.sim.raise_exception(outbound.reference, "lost")
    monkeypatch.setattr(reships, "send_replacement", send_then_die)
    from integration.orders.outbound import open_outbound_ids
    from jobs import warehousing

    for outbound_id in open_outbound_ids():
        warehousing.poll_outbound(outbound_id)
    with pytest.raises(Killed):
        reships.reship_lost_parcel(parcel.id)
    db.session.rollback()
    monkeypatch.setattr(reships, "send_replacement", real)
    stack.settle()  # the queued reship job
    assert return_jobs.reship_lost_parcel(parcel.id) == "sent"
    stack.poll_outbounds()

    reship = db.session.execute(select(Reship)).scalar_one()
    assert (reship.reason, reship.requested_by, reship.status, reship.warehouse_id) == (
        "lost", "carrier", "sent", stack.ids["de"])
    replacements = db.session.execute(select(OutboundOrder).where(OutboundOrder.purpose != "")).scalars().all()
    assert [o.id for o in replacements] == [reship.outbound_id]
    assert replacements[0].purpose == f"reship:{reship.id}"
    assert stack.winit.sim.orders[replacements[0].reference].lines == [("MUG-BLUE", 2)]

    stack.winit.sim.advance(3 * 3600)
    stack.poll_outbounds()
    for _ in range(2):  # the replacement's first carrier events (in transit), one poll each
        stack.winit.sim.step_order(replacements[0].reference)
        stack.poll_outbounds()
    stack.winit.sim.advance(86400)
    stack.poll_outbounds()
    assert sent(f"reship:{reship.id}") == {"replacement_shipped": 1}
    replacement_parcel = db.session.execute(select(Shipment).where(Shipment.outbound_id == reship.outbound_id)
                                            ).scalar_one()
    # The replacement's own tracking notices (delivered), but no ordinary "shipped" notice for it.
    assert [n.kind for n in notices(f"shipment:{replacement_parcel.id}")] == ["delivered"]
    assert len(stack.shopify.fulfillments(SHOPIFY_SHOP)) == 1
    assert len(mails(stack, "replacement_shipped")) == 1


def test_the_merchants_decisions_in_shopifys_admin_move_our_returns(make_stack):  # noqa: F811
    stack = make_stack(auto_approve=False)
    order_gid, order_id = stack.place_order()
    stack.ship(order_id)
    stack.deliver()
    kept = request_return(stack, order_gid)
    refused = request_return(stack, order_gid, reason="defective")
    by_gid = {r.shopify_return_id: r.id for r in db.session.execute(select(Return)).scalars()}
    assert {the_return(i).status for i in by_gid.values()} == {"requested"}

    shop_token = db.session.get(Shop, stack.ids["shop"]).access_token
    gql(stack.shopify, shop_token, APPROVE, {"id": kept})
    gql(stack.shopify, shop_token, DECLINE, {"id": refused, "reason": "FINAL_SALE", "note": "Sale item"})
    stack.settle()
    approved, declined = the_return(by_gid[kept]), the_return(by_gid[refused])
    assert (approved.status, approved.decided_by, approved.warehouse_id) == ("authorized", "merchant", stack.ids["de"])
    assert [r.warehouse for r in stack.winit.sim.returns.values()] == ["DEWH"]
    assert (declined.status, declined.decided_by, declined.decline_reason, declined.decline_note) == (
        "declined", "merchant", "FINAL_SALE", "Sale item")
    assert return_jobs.decline_return(declined.id) == "declined"  # Shopify answers the declined return as it is
    assert sent(f"return:{declined.id}") == {"return_declined": 1}
    assert sent(f"return:{approved.id}") == {"return_approved": 1}
    assert shopify_return(stack, refused)["status"] == "DECLINED"
