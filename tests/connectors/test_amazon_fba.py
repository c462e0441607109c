"""FBA as a warehouse provider: MCF lifecycle, tracking taxonomy, inventory paging and cursor."""

from __future__ import annotations

import pytest

import connectors.warehouses.fba  # noqa: F401 - registers "fba" (registry.MODULES gets it separately)
from connectors.errors import PermanentError
from connectors.warehouses import registry
from connectors.warehouses.fba import EVENTS, FbaProvider
from integration.domain.orders import Address
from integration.domain.ports import WarehouseProvider
from integration.domain.warehousing import (
    ExceptionReason,
    InboundRequest,
    Line,
    OutboundRequest,
    OutboundStatus,
    ReturnRequest,
    TrackingStatus,
)
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, FR, REFRESH_TOKEN, SELLER_ID

SHIP_TO = Address(first_name="Ada", last_name="Muller", address1="Hauptstrasse 1", city="Berlin", zip="10115",
                  country_code="DE", phone="+49 30 1234567")


@pytest.fixture
def make_provider(redis_conn):
    def make(emulator, **kwargs) -> FbaProvider:
        credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
                       "selling_partner_id": SELLER_ID, "marketplace_ids": f"{DE},{FR}",
                       "lwa_token_url": emulator.token_url}
        return registry.provider_class("fba")(credentials, redis=redis_conn, account_key=SELLER_ID,
                                              endpoint=emulator.url, **kwargs)
    return make


@pytest.fixture
def provider(amazon_emulator, make_provider) -> FbaProvider:
    return make_provider(amazon_emulator)


def _request(reference, sku="NS-0001", quantity=2):
    return OutboundRequest(reference=reference, warehouse_code=DE, ship_to=SHIP_TO, lines=(Line(sku, quantity),),
                           email="ada@example.com", order_name="#1001")


def test_it_is_a_warehouse_provider(provider):
    assert isinstance(provider, WarehouseProvider) and provider.name == "fba"
    sites = provider.list_warehouses()
    assert [(s.code, s.country_code) for s in sites] == [(DE, "DE"), (FR, "FR")]


def test_returns_are_refused_as_unsupported(provider):
    """MCF returns go back to Amazon's own network (Seller Central), not through an RMA here."""
    with pytest.raises(PermanentError) as created:
        provider.create_return(ReturnRequest("RMA-1", "ORD-1", (Line("NS-0001", 1),)))
    with pytest.raises(PermanentError) as read:
        provider.get_return("RMA-1", "X-1")
    assert created.value.code == read.value.code == "unsupported"
    assert read.value.message == created.value.message


def test_mcf_order_lifecycle_and_tracking(amazon_emulator, provider):
    amazon_emulator.state.set_fba_stock("NS-0001", 10, marketplace_id=DE, reserved=0)
    outbound = provider.create_outbound(_request("NS-1001-A"))
    assert outbound.status == OutboundStatus.RECEIVED and outbound.external_id == "NS-1001-A"
    stock = amazon_emulator.state.stock[("NS-0001", DE)]
    assert (stock.fulfillable, stock.reserved) == (8, 2)
    again = provider.create_outbound(_request("NS-1001-A"))  # a retry after a lost answer
    assert again.reference == outbound.reference and len(amazon_emulator.state.mcf) == 1
    sent = amazon_emulator.exchanges_for("fbaOutbound.createFulfillmentOrder")[0].json
    assert sent() == {}
    amazon_emulator.advance(hours=1)
    assert provider.get_outbound("NS-1001-A").status == OutboundStatus.PICKING
    amazon_emulator.advance(hours=4)
    shipped = provider.get_outbound("NS-1001-A")
    assert shipped.status == OutboundStatus.SHIPPED and len(shipped.packages) == 1
    package = shipped.packages[0]
    assert package.carrier == "DHL" and package.tracking_number.startswith("TBA")
    assert package.lines == (Line("NS-0001", 2),)
    assert (stock.fulfillable, stock.reserved) == (8, 0)
    amazon_emulator.advance(hours=3)
    early = provider.tracking_events("NS-1001-A")
    assert [e.status for e in early] == [TrackingStatus.INFO_RECEIVED, TrackingStatus.IN_TRANSIT]
    amazon_emulator.advance(hours=40)
    events = provider.tracking_events("NS-1001-A")
    assert events[-1].status == TrackingStatus.DELIVERED and events[-1].raw_code == "EVENT_301"
    assert events[-2].status == TrackingStatus.OUT_FOR_DELIVERY
    assert all(e.tracking_number == package.tracking_number and e.carrier == "DHL" for e in events)
    assert events[0].location == "Berlin, DE"


@pytest.mark.parametrize(("scenario", "status", "reason"), [
    ("customs_delay", TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),
    ("attempt_fail", TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),
    ("lost", TrackingStatus.EXCEPTION, ExceptionReason.LOST),
    ("pickup", TrackingStatus.AVAILABLE_FOR_PICKUP, None),
    ("returned", TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER)])
def test_tracking_exceptions_are_normalised(amazon_emulator, provider, scenario, status, reason):
    amazon_emulator.state.set_fba_stock("NS-0002", 5, marketplace_id=DE)
    provider.create_outbound(_request("SC-1", sku="NS-0002", quantity=1))
    amazon_emulator.set_tracking_scenario("SC-1", scenario)
    amazon_emulator.advance(hours=4 + 200)
    events = provider.tracking_events("SC-1")
    assert (status, reason) in {(e.status, e.reason) for e in events}


def test_every_event_code_has_a_status(amazon_models):
    from tests.amazon_fixtures import MODELS

    model = __import__("json").loads((MODELS / "fulfillmentOutbound_2020-07-01.json").read_text())
    assert set(model["definitions"]["EventCode"]["enum"]) == set(EVENTS)


def test_cancel_before_processing_only(amazon_emulator, provider):
    amazon_emulator.state.set_fba_stock("NS-0003", 6, marketplace_id=DE, reserved=0)
    provider.create_outbound(_request("CX-1", sku="NS-0003", quantity=2))
    cancelled = provider.cancel_outbound("CX-1")
    assert cancelled.status == OutboundStatus.CANCELLED
    stock = amazon_emulator.state.stock[("NS-0003", DE)]
    assert (stock.fulfillable, stock.reserved) == (6, 0)
    assert provider.cancel_outbound("CX-1").status == OutboundStatus.CANCELLED
    provider.create_outbound(_request("CX-2", sku="NS-0003", quantity=1))
    amazon_emulator.advance(hours=3)
    with pytest.raises(PermanentError):
        provider.cancel_outbound("CX-2")


def test_not_enough_stock_is_an_exception(amazon_emulator, provider):
    amazon_emulator.state.set_fba_stock("NS-0004", 1, marketplace_id=DE)
    outbound = provider.create_outbound(_request("LOW-1", sku="NS-0004", quantity=3))
    assert outbound.status == OutboundStatus.EXCEPTION and outbound.error == "Unfulfillable"


def test_bad_requests_are_refused_before_calling(amazon_emulator, provider):
    with pytest.raises(PermanentError):
        provider.create_outbound(OutboundRequest("R1", DE, Address(first_name="X", country_code="DE"), (Line("A", 1),)))
    with pytest.raises(PermanentError):
        provider.create_outbound(_request("R" * 41))
    with pytest.raises(PermanentError):
        provider.create_outbound(OutboundRequest("R2", "NOT-A-MARKETPLACE", SHIP_TO, (Line("A", 1),)))
    with pytest.raises(PermanentError):
        provider.create_outbound(_request("R3", sku="NOT-FBA"))  # Amazon: not an FBA SKU
    with pytest.raises(PermanentError):
        provider.create_inbound(InboundRequest("I1", DE, (Line("A", 1),)))
    with pytest.raises(PermanentError):
        provider.parse_webhook({}, b"{}")


def test_inventory_is_paged_and_mapped(amazon_emulator_factory, make_provider):
    emulator = amazon_emulator_factory(skus=120, orders=0)
    provider = make_provider(emulator)
    records = provider.get_inventory(DE)
    assert len(records) == 120 and len(emulator.exchanges_for("fbaInventory.getInventorySummaries")) == 3
    stock = emulator.state.stock[("NS-0007", DE)]
    record = next(r for r in records if r.sku == "NS-0007")
    assert record.available == stock.fulfillable and record.reserved == stock.reserved
    assert record.inbound == stock.inbound_working + stock.inbound_shipped + stock.inbound_receiving
    assert record.on_hand == stock.fulfillable + stock.reserved + stock.unfulfillable
    chosen = provider.get_inventory(FR, skus=[f"NS-{i:04d}" for i in range(1, 61)])
    assert len(chosen) == 60 and {r.warehouse_code for r in chosen} == {FR}


def test_an_expired_next_token_restarts_the_listing(amazon_emulator_factory, make_provider):
    emulator = amazon_emulator_factory(skus=70, orders=0)
    provider = make_provider(emulator)
    client = provider.client(DE)
    original, pages = client.call, []

    def slow_call(operation, **kwargs):
        reply = original(operation, **kwargs)
        pages.append(kwargs["params"].get("nextToken"))
        if len(pages) == 1:
            emulator.advance(31)  # the worker stalled: the nextToken died
        return reply

    client.call = slow_call
    records = provider.get_inventory(DE)
    assert len(records) == 70
    statuses = [e.status for e in emulator.exchanges_for("fbaInventory.getInventorySummaries")]
    assert statuses == [200, 400, 200, 200]


def test_inventory_changes_follow_a_cursor(amazon_emulator, provider):
    first = provider.inventory_changes(None)
    assert len(first.records) == 16 and first.next_cursor.startswith("v1:") and not first.has_more
    amazon_emulator.advance(minutes=5)
    amazon_emulator.state.set_fba_stock("NS-0005", 42, marketplace_id=FR)
    changed = provider.inventory_changes(first.next_cursor)
    assert [(r.sku, r.warehouse_code, r.available) for r in changed.records] == [("NS-0005", FR, 42)]
    query = dict(amazon_emulator.exchanges_for("fbaInventory.getInventorySummaries")[-1].query)
    assert query["startDateTime"] == first.next_cursor[3:] and "sellerSkus" not in query
