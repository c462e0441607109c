"""WinitProvider against the running WINIT emulator, over real HTTP."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.http import make_session
from connectors.warehouses import registry
from connectors.warehouses import winit_mapping as wm
from connectors.warehouses.winit import WinitProvider
from integration.domain.orders import Address
from integration.domain.ports import WarehouseProvider
from integration.domain.warehousing import (
    Capability,
    ExceptionReason,
    InboundRequest,
    Line,
    OutboundRequest,
    OutboundStatus,
    ReturnRequest,
    SkuSpec,
    TrackingStatus,
)
from sandbox.warehouses.sim import EXCEPTIONS, TERMINAL_EXCEPTIONS
from sandbox.warehouses.winit import WinitEmulator
from tests.winit_fixtures import WINIT_APP_KEY, WINIT_PLATFORM, WINIT_TOKEN, winit_credentials, winit_provider_for

BERLIN = Address(name="Erika Mustermann", address1="Hauptstraße 5", city="Berlin", zip="10115",
                 country_code="DE", province="Berlin", phone="+49301234567")


def order(reference: str, *lines: tuple[str, int], warehouse: str = "DEWH") -> OutboundRequest:
    return OutboundRequest(reference=reference, warehouse_code=warehouse, ship_to=BERLIN,
                           lines=tuple(Line(sku, qty) for sku, qty in (lines or (("MUG-BLUE", 2),))),
                           email="erika@example.com", order_name="#1001")


def raw_call(emulator, action: str, data, *, data_as_signed: str | None = None, token: str = WINIT_TOKEN) -> dict:
    """A hand-built request: sign over ``data_as_signed`` (defaults to the canonical form)."""
    fields = {"action": action, "app_key": WINIT_APP_KEY, "data": data_as_signed or wm.canonical_data(data),
              "format": "json", "platform": WINIT_PLATFORM, "sign_method": "md5",
              "timestamp": wm.format_time(datetime.now(UTC)), "version": "1.0"}
    body = {**fields, "data": data, "language": "zh_CN", "sign": wm.sign(token, fields)}
    return requests.post(emulator.url, data=json.dumps(body, ensure_ascii=False).encode(), timeout=5).json()


# -- protocol --------------------------------------------------------------------------------

def test_sign_known_answer():
    data = {"warehouseID": "1000089", "pageSize": 100, "pageNum": 1, "isActive": None, "note": "德国仓"}
    assert wm.canonical_data(data) == '{"note":"德国仓","pageNum":1,"pageSize":100,"warehouseID":"1000089"}'
    fields = {"action": "queryWarehouseStorage", "app_key": "seller@example.com", "data": wm.canonical_data(data),
              "format": "json", "platform": "NEARSTOCK", "sign_method": "md5", "timestamp": "2024-03-01 20:00:00",
              "version": "1.0"}
    # Published rule: token + name/value of the fields in alphabetical order + token, MD5, upper case.
    plaintext = ('TESTTOKENactionqueryWarehouseStorageapp_keyseller@example.com'
                 'data{"note":"德国仓","pageNum":1,"pageSize":100,"warehouseID":"1000089"}'
                 'formatjsonplatformNEARSTOCKsign_methodmd5timestamp2024-03-01 20:00:00version1.0TESTTOKEN')
    assert wm.sign_plaintext("TESTTOKEN", fields) == plaintext
    digest = hashlib.md5(plaintext.encode(), usedforsecurity=False).hexdigest().upper()
    assert digest == "B15A4012577C1B09E812C67DF3851C13"
    assert wm.sign("TESTTOKEN", fields) == "B15A4012577C1B09E812C67DF3851C13"


def test_envelope_fields_and_beijing_timestamp(winit_provider):
    fixed = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    winit_provider.clock = lambda: fixed
    body = winit_provider._envelope("queryWarehouse", {"b": None, "a": 1})
    assert sorted(body) == ["action", "app_key", "data", "format", "language", "platform", "sign", "sign_method",
                            "timestamp", "version"]
    assert body["timestamp"] == "2024-03-01 20:00:00"  # UTC+8
    assert body["data"] == {"a": 1} and body["format"] == "json" and body["sign_method"] == "md5"
    assert WINIT_TOKEN not in json.dumps(body)


def test_times_are_read_as_beijing_and_returned_utc():
    assert wm.parse_time("2024-03-01 08:00:00") == datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    assert wm.parse_time("") is None


def test_wrong_token_and_app_key_are_auth_errors(winit_emulator, redis_conn):
    with pytest.raises(AuthError) as bad_token:
        winit_provider_for(winit_emulator, redis_conn, credentials=winit_credentials(token="WRONG")).list_warehouses()
    assert bad_token.value.code == "400001"
    with pytest.raises(AuthError):
        other = winit_credentials(app_key="other@x.com")
        winit_provider_for(winit_emulator, redis_conn, credentials=other).list_warehouses()
    assert [c["code"] for c in winit_emulator.calls] == ["400001", "400002"]


def test_unsorted_or_null_data_signed_as_sent_is_rejected(winit_emulator):
    data = {"warehouseID": "1000001", "pageNum": 1, "pageSize": 10}
    assert raw_call(winit_emulator, "queryWarehouseStorage", data)["code"] == "0"
    unsorted = '{"warehouseID":"1000001","pageNum":1,"pageSize":10}'
    assert raw_call(winit_emulator, "queryWarehouseStorage", data, data_as_signed=unsorted)["code"] == "400001"
    with_null = {**data, "isActive": None}
    signed_null = '{"isActive":null,"pageNum":1,"pageSize":10,"warehouseID":"1000001"}'
    assert raw_call(winit_emulator, "queryWarehouseStorage", with_null, data_as_signed=signed_null)["code"] == "400001"


def test_missing_sign_is_refused(winit_emulator):
    body = {"action": "queryWarehouse", "app_key": WINIT_APP_KEY, "data": {}, "format": "json",
            "platform": WINIT_PLATFORM, "sign_method": "md5", "timestamp": wm.format_time(datetime.now(UTC)),
            "version": "1.0", "language": "zh_CN"}
    answer = requests.post(winit_emulator.url, json=body, timeout=5).json()
    assert answer["code"] == "400001" and answer["data"] is None and answer["msg"]


def test_client_sign_when_the_app_is_registered(redis_conn):
    emulator = WinitEmulator(WINIT_APP_KEY, WINIT_TOKEN, platform=WINIT_PLATFORM, client_id="CID-1",
                             client_secret="CSECRET").start()
    try:
        good = winit_provider_for(emulator, redis_conn,
                            credentials=winit_credentials(client_id="CID-1", client_secret="CSECRET"))
        assert [s.code for s in good.list_warehouses()] == ["DEWH", "USWC"]
        assert "client_sign" in emulator.calls[-1]["fields"]
        with pytest.raises(AuthError):
            winit_provider_for(emulator, redis_conn, credentials=winit_credentials()).list_warehouses()
        with pytest.raises(AuthError):
            winit_provider_for(emulator, redis_conn, credentials=winit_credentials(client_id="CID-1",
                                                                             client_secret="WRONG")).list_warehouses()
    finally:
        emulator.stop()


def test_stale_timestamp_unknown_action_and_bad_data_are_refused(winit_emulator, redis_conn):
    stale = winit_provider_for(winit_emulator, redis_conn, clock=lambda: datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(PermanentError) as exc:
        stale.list_warehouses()
    assert exc.value.code == "400003" and not isinstance(exc.value, AuthError)
    provider = winit_provider_for(winit_emulator, redis_conn)
    with pytest.raises(PermanentError) as exc:
        provider._call("test", "isp.order.nope", {})
    assert exc.value.code == "400004"
    with pytest.raises(PermanentError) as exc:
        provider._call("test", "queryWarehouseStorage", {"warehouseID": "999", "pageNum": 1, "pageSize": 10})
    assert exc.value.code == "400011" and exc.value.field == "warehouse_code"
    with pytest.raises(PermanentError) as exc:
        provider._call("test", "queryOutboundOrderList", {"pageNum": 1, "pageSize": 10})
    assert exc.value.code == "400007" and exc.value.field == "dateOrderedStartDate"
    assert requests.get(winit_emulator.url, timeout=5).status_code == 405


def test_provider_contract(winit_provider):
    assert isinstance(winit_provider, WarehouseProvider)
    assert registry.provider_class("winit") is WinitProvider
    assert winit_provider.capabilities == {Capability.INVENTORY_CURSOR, Capability.INBOUND, Capability.RETURNS}
    with pytest.raises(PermanentError):
        winit_provider.parse_webhook({}, b"{}")
    assert "TOKEN" not in repr(winit_provider) and WINIT_TOKEN not in repr(winit_provider)


def test_call_records_carry_no_secrets(winit_emulator, redis_conn):
    records = []
    provider = winit_provider_for(winit_emulator, redis_conn, on_call=records.append)
    provider.create_outbound(order("REC-1"))
    assert [r.operation for r in records] == ["list_warehouses", "delivery_ways", "create_outbound"]
    assert winit_emulator.calls[-1]["fields"] == ["action", "app_key", "data", "format", "language", "platform",
                                                  "sign", "sign_method", "timestamp", "version"]
    assert records[-1].external_id.startswith("WO") and records[-1].status == 200
    for record in records:
        text = record.request_excerpt + record.response_excerpt
        assert WINIT_TOKEN not in text and '"sign"' not in text and WINIT_APP_KEY not in text


# -- port operations -------------------------------------------------------------------------

def test_list_warehouses(winit_provider):
    sites = winit_provider.list_warehouses()
    assert [(s.code, s.country_code, s.region) for s in sites] == [("DEWH", "DE", "EU"), ("USWC", "US", "US")]


def test_upsert_sku_registers_the_product(winit_provider, winit_emulator):
    winit_provider.upsert_sku(SkuSpec(sku="LAMP-1", title="Desk lamp", weight_g=1200, length_mm=305, width_mm=200,
                                      height_mm=150, declared_value=None, origin_country="CN"))
    assert winit_emulator.sim.skus["LAMP-1"]["title"] == "Desk lamp"
    with pytest.raises(PermanentError) as exc:
        winit_provider.upsert_sku(SkuSpec(sku="LAMP-2", title=""))
    assert exc.value.field == "title"


def test_create_and_get_outbound(winit_provider, winit_emulator):
    created = winit_provider.create_outbound(order("ORD-1", ("MUG-BLUE", 2), ("TEE-M", 1)))
    assert created.external_id.startswith("WO") and created.status is OutboundStatus.RECEIVED
    sim_order = winit_emulator.sim.orders["ORD-1"]
    assert sim_order.lines == [("MUG-BLUE", 2), ("TEE-M", 1)]
    assert sim_order.address["recipientName"] == "Erika Mustermann" and sim_order.address["state"] == "DE"
    fetched = winit_provider.get_outbound("ORD-1")
    assert fetched.external_id == created.external_id and fetched.status is OutboundStatus.RECEIVED
    assert fetched.updated_at == datetime.fromtimestamp(int(sim_order.created_at), UTC)
    with pytest.raises(PermanentError):
        winit_provider.get_outbound("NO-SUCH-ORDER")


def test_create_outbound_twice_makes_one_order(winit_provider, winit_emulator, redis_conn):
    first = winit_provider.create_outbound(order("ORD-2"))
    again = winit_provider.create_outbound(order("ORD-2"))
    # The second attempt looks the order up before creating: WINIT is asked to create once.
    assert [c["code"] for c in winit_emulator.calls_to("createOutboundOrder")] == ["0"]
    redis_conn.flushdb()  # no cache, no attempt mark: WINIT refuses, and the refusal is checked by lookup
    third = winit_provider.create_outbound(order("ORD-2"))
    assert first.external_id == again.external_id == third.external_id
    assert third.external_ids == (first.external_id,)
    assert list(winit_emulator.sim.orders) == ["ORD-2"]
    assert [c["code"] for c in winit_emulator.calls_to("createOutboundOrder")] == ["0", "400008"]
    assert winit_emulator.calls_to("queryOutboundOrderList")


def test_timeout_is_retryable_and_the_retry_finds_the_order(winit_emulator, redis_conn):
    provider = winit_provider_for(winit_emulator, redis_conn, session=make_session(timeout=(2.0, 0.3)))
    provider.create_outbound(order("WARM-1"))  # caches warehouse and delivery way
    winit_emulator.faults.slow_seconds = 0.8
    winit_emulator.faults.set(1.0, ("slow",))
    with pytest.raises(RetryableError):
        provider.create_outbound(order("SLOW-1"))
    winit_emulator.faults.set(0.0)
    deadline = time.time() + 3
    while "SLOW-1" not in winit_emulator.sim.orders and time.time() < deadline:
        time.sleep(0.05)  # the gateway finishes the slow request after we gave up
    retried = provider.create_outbound(order("SLOW-1"))
    assert retried.external_id == winit_emulator.sim.orders["SLOW-1"].external_id
    assert sorted(winit_emulator.sim.orders) == ["SLOW-1", "WARM-1"]


def test_refusals_name_the_field(winit_provider):
    with pytest.raises(PermanentError) as exc:
        winit_provider.create_outbound(order("BAD-1", ("NO-SKU", 1)))
    assert exc.value.code == "400010" and exc.value.field == "lines.sku"
    with pytest.raises(PermanentError) as exc:
        winit_provider.create_outbound(order("BAD-2", ("MUG-RED", 1), warehouse="USWC"))
    assert exc.value.code == "400009"
    with pytest.raises(PermanentError) as exc:
        winit_provider.create_outbound(order("BAD-3", warehouse="FRWH"))
    assert exc.value.field == "warehouse_code"
    no_city = OutboundRequest("BAD-4", "DEWH", Address(name="X", address1="Y", zip="1", country_code="DE"),
                              (Line("MUG-BLUE", 1),))
    with pytest.raises(PermanentError) as exc:
        winit_provider.create_outbound(no_city)
    assert exc.value.code == "400007" and exc.value.field == "ship_to.city"


def test_lifecycle_to_delivered(winit_provider, winit_emulator):
    winit_provider.create_outbound(order("LIFE-1", ("MUG-BLUE", 3)))
    sim = winit_emulator.sim
    sim.advance(1800)
    assert winit_provider.get_outbound("LIFE-1").status is OutboundStatus.PICKING
    sim.advance(3600)
    shipped = winit_provider.get_outbound("LIFE-1")
    assert shipped.status is OutboundStatus.SHIPPED
    (package,) = shipped.packages
    assert package.tracking_number == sim.orders["LIFE-1"].tracking_number and package.carrier == "DHL"
    assert package.lines == (Line("MUG-BLUE", 3),)
    assert package.shipped_at == datetime.fromtimestamp(int(sim.orders["LIFE-1"].shipped_at), UTC)
    sim.advance(4 * 86400)
    delivered = winit_provider.get_outbound("LIFE-1")
    assert delivered.status is OutboundStatus.DELIVERED
    events = winit_provider.tracking_events("LIFE-1")
    assert [e.status for e in events] == [
        TrackingStatus.PENDING, TrackingStatus.INFO_RECEIVED, TrackingStatus.INFO_RECEIVED,
        TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED]
    assert [e.occurred_at for e in events] == [datetime.fromtimestamp(int(e.at), UTC)
                                               for e in sim.orders["LIFE-1"].events]
    assert all(e.occurred_at.tzinfo is UTC and e.tracking_number == package.tracking_number for e in events)
    assert events[-1].raw_code == "DLV" and events[-1].carrier == "DHL"
    assert delivered.updated_at == events[-1].occurred_at


EXPECTED = {
    "customs_delay": (TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),
    "delivery_delay": (TrackingStatus.EXCEPTION, ExceptionReason.DELIVERY_DELAY),
    "failed_attempt": (TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),
    "address_problem": (TrackingStatus.EXCEPTION, ExceptionReason.ADDRESS_PROBLEM),
    "lost": (TrackingStatus.EXCEPTION, ExceptionReason.LOST),
    "damaged": (TrackingStatus.EXCEPTION, ExceptionReason.DAMAGED),
    "returned_to_sender": (TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER),
}


def test_every_exception_kind_is_normalised(winit_provider, winit_emulator):
    assert set(EXPECTED) == set(EXCEPTIONS)
    for kind in EXCEPTIONS:
        winit_emulator.sim.plan_exceptions(f"EXC-{kind}", [kind])
        winit_provider.create_outbound(order(f"EXC-{kind}", ("MUG-BLUE", 1)))
    winit_emulator.sim.advance(6 * 86400)
    for kind, (status, reason) in EXPECTED.items():
        events = winit_provider.tracking_events(f"EXC-{kind}")
        flagged = [(e.status, e.reason) for e in events if e.reason is not None]
        assert flagged == [(status, reason)], kind
        outbound = winit_provider.get_outbound(f"EXC-{kind}")
        if kind in TERMINAL_EXCEPTIONS:
            assert outbound.status is OutboundStatus.EXCEPTION and outbound.error
        else:
            assert outbound.status is OutboundStatus.DELIVERED and events[-1].status is TrackingStatus.DELIVERED


def test_cancel_outbound(winit_provider, winit_emulator):
    winit_provider.create_outbound(order("CAN-1"))
    assert winit_emulator.sim.stock[("DEWH", "MUG-BLUE")].reserved == 2
    cancelled = winit_provider.cancel_outbound("CAN-1")
    assert cancelled.status is OutboundStatus.CANCELLED
    assert winit_emulator.sim.stock[("DEWH", "MUG-BLUE")].reserved == 0
    assert winit_provider.cancel_outbound("CAN-1").status is OutboundStatus.CANCELLED
    winit_provider.create_outbound(order("CAN-2"))
    winit_emulator.sim.advance(6000)
    with pytest.raises(PermanentError) as exc:
        winit_provider.cancel_outbound("CAN-2")
    assert exc.value.code == "400012"


def test_get_inventory(winit_provider, winit_emulator):
    winit_provider.create_outbound(order("INV-1", ("MUG-BLUE", 5)))
    stock = {(r.warehouse_code, r.sku): r for r in winit_provider.get_inventory()}
    assert len(stock) == 5
    blue = stock[("DEWH", "MUG-BLUE")]
    assert (blue.on_hand, blue.reserved, blue.available) == (100, 5, 95)
    assert blue.as_of.tzinfo is UTC
    winit_emulator.actions.frozen[("DEWH", "MUG-BLUE")] = 7  # frozen units stay on hand, are not for sale
    (frozen,) = winit_provider.get_inventory("DEWH", skus=["MUG-BLUE"])
    assert (frozen.on_hand, frozen.reserved, frozen.available) == (100, 5, 88)
    # The emulator answers with the live fields only: the deprecated ones are gone.
    row = winit_emulator.actions.query_warehouse_storage({"warehouseID": "1000001"})["list"][0]
    assert "inventory" not in row and "reservedInventory" not in row and row["qtyAvailable"] == "88"
    only = winit_provider.get_inventory("USWC", skus=["MUG-BLUE"])
    assert [(r.sku, r.on_hand) for r in only] == [("MUG-BLUE", 40)]


def test_inventory_changes_pages_through_the_ledger(winit_provider, winit_emulator):
    winit_provider.changes_page_size = 4
    first = winit_provider.inventory_changes(None)  # 5 seeded ledger rows: a full page of 4, then 1
    assert first.has_more and len(first.records) == 4
    second = winit_provider.inventory_changes(first.next_cursor)
    assert not second.has_more
    seen = {(r.warehouse_code, r.sku) for r in first.records + second.records}
    assert seen == {("DEWH", "MUG-BLUE"), ("DEWH", "MUG-RED"), ("DEWH", "TEE-M"), ("USWC", "MUG-BLUE"),
                    ("USWC", "MUG-RED")}
    caught_up = winit_provider.inventory_changes(second.next_cursor)
    assert caught_up.records == () and not caught_up.has_more and caught_up.next_cursor == second.next_cursor
    winit_provider.create_outbound(order("CHG-1", ("TEE-M", 2)))
    changed = winit_provider.inventory_changes(caught_up.next_cursor)
    assert [(r.sku, r.reserved, r.available) for r in changed.records] == [("TEE-M", 2, 18)]
    with pytest.raises(PermanentError):
        winit_provider.inventory_changes("not-a-cursor")


def test_create_inbound(winit_provider, winit_emulator):
    eta = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
    request = InboundRequest(reference="ASN-1", warehouse_code="DEWH", lines=(Line("MUG-RED", 30),),
                             expected_at=eta, carrier="UPS", tracking_number="1Z999")
    shipment = winit_provider.create_inbound(request)
    assert shipment.external_id == winit_emulator.sim.inbounds["ASN-1"].external_id
    assert winit_emulator.sim.inbounds["ASN-1"].eta == eta.timestamp()
    assert winit_provider.create_inbound(request).external_id == shipment.external_id
    assert len(winit_emulator.sim.inbounds) == 1
    red = winit_provider.get_inventory("DEWH", skus=["MUG-RED"])[0]
    assert red.inbound == 30


def test_create_return(winit_provider, winit_emulator):
    winit_provider.create_outbound(order("RET-ORD", ("MUG-BLUE", 2)))
    winit_emulator.sim.advance(3 * 86400)
    request = ReturnRequest(reference="RMA-1", outbound_reference="RET-ORD", lines=(Line("MUG-BLUE", 1),),
                            reason="damaged")
    rma = winit_provider.create_return(request)
    assert rma.external_id == winit_emulator.sim.returns["RMA-1"].external_id and rma.status == "ordered"
    assert winit_provider.create_return(request).external_id == rma.external_id
    assert len(winit_emulator.sim.returns) == 1
    with pytest.raises(PermanentError) as exc:
        winit_provider.create_return(ReturnRequest("RMA-2", "RET-ORD", (Line("MUG-BLUE", 5),)))
    assert exc.value.field == "lines.quantity"
