"""WinitProvider against the emulator in WINIT's real shapes: split outbound orders end to end,
and duplicate recovery that has to page past the first page of inbounds and returns."""

from __future__ import annotations

import pytest

from connectors.errors import PermanentError
from connectors.warehouses.winit import WinitProvider
from integration.domain.orders import Address
from integration.domain.warehousing import InboundRequest, Line, OutboundRequest, OutboundStatus, ReturnRequest
from sandbox.warehouses.winit import WinitEmulator
from tests.winit_fixtures import WINIT_APP_KEY, WINIT_PLATFORM, WINIT_TOKEN, winit_credentials

BERLIN = Address(name="Erika Mustermann", address1="Hauptstraße 5", city="Berlin", zip="10115", country_code="DE")


@pytest.fixture
def split_emulator():
    """MUG-BLUE and TEE-M sit in different stock zones: an order of both is split in two."""
    emulator = WinitEmulator(WINIT_APP_KEY, WINIT_TOKEN, platform=WINIT_PLATFORM, warehouses={"DEWH": "DE"}, seed=3,
                             split_zones={"MUG-BLUE": "A", "TEE-M": "B"})
    for sku, on_hand in (("MUG-BLUE", 100), ("TEE-M", 20)):
        emulator.sim.add_sku(sku, title=sku)
        emulator.sim.set_stock("DEWH", sku, on_hand)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def provider(split_emulator, redis_conn):
    return WinitProvider(winit_credentials(), redis=redis_conn, account_key="split", endpoint=split_emulator.url)


def order(reference: str, *lines: tuple[str, int]) -> OutboundRequest:
    return OutboundRequest(reference, "DEWH", BERLIN, tuple(Line(s, q) for s, q in lines), email="e@example.com")


def test_a_split_order_keeps_every_number_and_moves_as_its_slowest_part(provider, split_emulator):
    created = provider.create_outbound(order("SPL-1", ("MUG-BLUE", 2), ("TEE-M", 1)))
    sim = split_emulator.sim
    numbers = (sim.orders["SPL-1"].external_id, sim.orders["SPL-1/2"].external_id)
    assert created.external_ids == numbers and created.external_id == numbers[0]
    assert split_emulator.calls_to("createOutboundOrder")[-1]["code"] == "0"
    provider._forget("outbound", "SPL-1")  # the numbers are found again through the order list by sellerOrderNo
    assert provider.get_outbound("SPL-1").external_ids == numbers
    sim.advance(3 * 3600)
    shipped = provider.get_outbound("SPL-1")
    assert shipped.status is OutboundStatus.SHIPPED
    assert sorted(p.tracking_number for p in shipped.packages) == sorted(
        (sim.orders["SPL-1"].tracking_number, sim.orders["SPL-1/2"].tracking_number))
    tracked = {event.tracking_number for event in provider.tracking_events("SPL-1")}
    assert {p.tracking_number for p in shipped.packages} == tracked
    sim.advance(5 * 86400)
    assert provider.get_outbound("SPL-1").status is OutboundStatus.DELIVERED
    rma = provider.create_return(ReturnRequest("SPL-RMA-1", "SPL-1", (Line("TEE-M", 1),)))
    assert sim.returns["SPL-RMA-1"].order_reference == "SPL-1/2" and rma.external_id
    with pytest.raises(PermanentError) as exc:
        provider.create_return(ReturnRequest("SPL-RMA-2", "SPL-1", (Line("TEE-M", 1), Line("MUG-BLUE", 1))))
    assert exc.value.code == "split_return"


def test_a_split_order_is_shipped_only_when_every_part_is(provider, split_emulator):
    provider.create_outbound(order("SPL-2", ("MUG-BLUE", 1), ("TEE-M", 1)))
    sim = split_emulator.sim
    sim.advance(1800)
    sim.orders["SPL-2/2"].next_at += 86400  # the second part waits a day for picking
    sim.advance(3600)
    partly = provider.get_outbound("SPL-2")
    assert partly.status is OutboundStatus.PICKING and len(partly.packages) == 1  # the shipped part's parcel


def test_cancel_voids_every_part(provider, split_emulator):
    provider.create_outbound(order("SPL-3", ("MUG-BLUE", 1), ("TEE-M", 2)))
    assert provider.cancel_outbound("SPL-3").status is OutboundStatus.CANCELLED
    sim = split_emulator.sim
    assert sim.orders["SPL-3"].status == sim.orders["SPL-3/2"].status == "cancelled"
    assert sim.stock[("DEWH", "TEE-M")].reserved == 0
    provider.create_outbound(order("SPL-4", ("MUG-BLUE", 1), ("TEE-M", 1)))
    split_emulator.sim.cancel_order("SPL-4/2")  # WINIT voided one part itself
    partly = provider.get_outbound("SPL-4")
    assert partly.status is OutboundStatus.EXCEPTION and "voided" in partly.error


def test_an_order_that_does_not_fit_is_refused_whole(provider, split_emulator):
    with pytest.raises(PermanentError) as exc:
        provider.create_outbound(order("SPL-5", ("MUG-BLUE", 1), ("TEE-M", 99)))
    assert exc.value.code == "400009"
    assert "SPL-5" not in split_emulator.sim.orders  # no half-made split order


def test_the_emulator_refuses_the_old_request_keys(provider):
    with pytest.raises(PermanentError) as exc:
        provider._call("test", "winit.wh.inbound.getOrderList", {"destinationWarehouseCode": "DEWH", "pageNo": 1})
    assert exc.value.code == "400007"
    with pytest.raises(PermanentError):
        provider._call("test", "rma.returnGoodsOrder.createReturnGoodsOrder", {"isReturnLabel": "N"})


def asn(seller: str, quantity: int) -> dict:
    """winit.wh.inbound.order.create data as the connector sends it."""
    return {"orderType": "DW", "winitProductCode": "WINIT-DW-DE", "sellerOrderNo": seller,
            "destinationWarehouseCode": "DEWH", "inspectionWarehouseCode": "DEWH",
            "packageList": [{"sellerCaseNo": "1", "merchandiseList": [
                {"merchandiseCode": "MUG-BLUE", "quantity": str(quantity)}]}]}


def test_a_refused_inbound_is_found_past_the_first_page(provider, split_emulator):
    with split_emulator.sim.lock:
        for i in range(provider.lookup_page_size + 10):  # other ASNs: a few with the same item count
            split_emulator.actions.create_inbound_order(asn(f"OTHER-{i}", 30 if i % 20 == 0 else 5))
        split_emulator.actions.create_inbound_order(asn("ASN-LATE", 30))  # an attempt whose answer we never saw
    request = InboundRequest("ASN-LATE", "DEWH", (Line("MUG-BLUE", 30),))
    shipment = provider.create_inbound(request)
    assert shipment.external_id == split_emulator.sim.inbounds["ASN-LATE"].external_id
    assert shipment.status == "created"  # OD
    pages = [c for c in split_emulator.calls_to("winit.wh.inbound.getOrderList") if c["code"] == "0"]
    assert len(pages) == 2 and len(split_emulator.sim.inbounds) == provider.lookup_page_size + 11


def test_a_refused_return_is_found_past_the_first_page(provider, split_emulator):
    provider.create_outbound(order("RET-1", ("MUG-BLUE", 3)))
    split_emulator.sim.advance(3 * 86400)
    for i in range(provider.lookup_page_size + 5):  # other returns of the same WINIT order
        split_emulator.sim.create_return(f"OTHER-RMA-{i}", "RET-1", [("MUG-BLUE", 1)])
    split_emulator.sim.create_return("RMA-LATE", "RET-1", [("MUG-BLUE", 1)])  # our earlier attempt
    rma = provider.create_return(ReturnRequest("RMA-LATE", "RET-1", (Line("MUG-BLUE", 1),)))
    assert rma.external_id == split_emulator.sim.returns["RMA-LATE"].external_id and rma.status == "ordered"
    assert len(split_emulator.calls_to("rma.returnGoodsOrder.queryReturnOderList")) == 2
