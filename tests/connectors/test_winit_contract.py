"""WINIT contract tests: answers in the SDK's published shapes (tests/fixtures/winit, written from
EalenXie/sdk-all winit-sdk) fed through the real connector - envelope parsing, mapping, lookups -
with a recorded transport instead of the emulator, so the emulator cannot share our guesses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import winit_codes as codes
from connectors.warehouses import winit_mapping as wm
from connectors.warehouses.winit import WinitProvider
from connectors.warehouses.winit_stock import parse_stock
from integration.domain.orders import Address
from integration.domain.warehousing import (
    InboundRequest,
    Line,
    OutboundRequest,
    OutboundStatus,
    ReturnAddress,
    ReturnRequest,
    TrackingStatus,
)
from tests.winit_fixtures import winit_credentials

RECORDED = Path(__file__).parent.parent / "fixtures" / "winit"
NOW = datetime(2024, 12, 20, 12, 0, tzinfo=UTC)


def recorded(name: str) -> dict:
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))


class Answer:
    def __init__(self, envelope: dict) -> None:
        self.status_code, self.headers = 200, {}
        self.text = json.dumps(envelope, ensure_ascii=False)
        self._envelope = envelope

    def json(self) -> dict:
        return self._envelope


class RecordedGateway:
    """A session whose post() answers each action from ``answers``: an envelope, a list of them
    (one per call) or a function of the request's data."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict]] = []

    def post(self, url, data=None, headers=None):
        body = json.loads(data)
        action, sent = body["action"], body["data"]
        self.requests.append((action, sent))
        answer = self.answers[action]
        if callable(answer):
            answer = answer(sent)
        elif isinstance(answer, list):
            answer = answer.pop(0)
        return Answer(answer)

    def sent(self, action: str) -> list[dict]:
        return [data for name, data in self.requests if name == action]


@pytest.fixture
def connect(redis_conn):
    def build(answers: dict):
        unknown: list = []
        base = recorded("base_data")
        gateway = RecordedGateway({"queryWarehouse": base["queryWarehouse"],
                                   "queryDeliveryWay": base["queryDeliveryWay"], **answers})
        provider = WinitProvider(winit_credentials(), redis=redis_conn, account_key="contract",
                                 endpoint="https://openapi.winit.com.cn/openapi/service", session=gateway,
                                 on_unknown=unknown.append, clock=lambda: NOW)
        provider.limiter.take = lambda *a, **k: None
        return provider, gateway, unknown
    return build


def request(reference: str = "NS-SPLIT-1") -> OutboundRequest:
    to = Address(name="Erika Mustermann", address1="Hauptstraße 5", city="Berlin", zip="10115", country_code="DE")
    return OutboundRequest(reference, "DE0001", to, (Line("MUG-BLUE", 2), Line("LAMP", 1)))


def by_number(table: dict):
    return lambda data: table[data["outboundOrderNum"]]


# -- create ----------------------------------------------------------------------------------

def test_a_split_create_answer_records_every_winit_number(connect, redis_conn):
    provider, gateway, unknown = connect({"createOutboundOrder": recorded("create_outbound")["split"]})
    created = provider.create_outbound(request())
    assert created.external_id == "WO2412190001"
    assert created.external_ids == ("WO2412190001", "WO2412190002")
    assert provider._remembered("outbound", "NS-SPLIT-1") == ["WO2412190001", "WO2412190002"]
    assert unknown == []
    (sent,) = gateway.sent("createOutboundOrder")
    assert sent["sellerOrderNo"] == "NS-SPLIT-1" and sent["repeatable"] == "N"
    assert sent["productList"] == [{"productCode": "MUG-BLUE", "productNum": "2"},
                                   {"productCode": "LAMP", "productNum": "1"}]


def test_created_numbers_reads_the_sdk_fields():
    answers = recorded("create_outbound")
    assert wm.created_numbers(answers["single"]["data"]) == (["WO2412190010"], None)
    assert wm.created_numbers(answers["new_split_type"]["data"]) == (["WO2412190020"], "XX")
    assert wm.created_numbers({"outboundOrderNum": "WO1"}) == ([], None)  # the old guess reads nothing


def test_an_answer_without_a_number_is_looked_up_not_a_key_error(connect):
    provider, gateway, unknown = connect({
        "createOutboundOrder": recorded("create_outbound")["no_number"],
        "queryOutboundOrderList": recorded("outbound_list")["split"],
        "queryOutboundOrder": by_number(recorded("query_outbound"))})
    outbound = provider.create_outbound(request())
    assert outbound.external_ids == ("WO2412190001", "WO2412190002")
    assert [u.field for u in unknown] == ["outbound.create"]
    assert gateway.sent("queryOutboundOrderList")[0]["sellerOrderNo"] == "NS-SPLIT-1"


def test_an_unknown_split_type_is_reported(connect):
    provider, _, unknown = connect({"createOutboundOrder": recorded("create_outbound")["new_split_type"]})
    provider.create_outbound(request("NS-NEW-1"))
    assert [(u.field, u.value) for u in unknown] == [("outbound.splitType", "XX")]


def test_a_refused_create_is_checked_by_reference_whatever_the_code(connect):
    provider, _, _ = connect({
        "createOutboundOrder": recorded("errors")["unlisted"],
        "queryOutboundOrderList": recorded("outbound_list")["split"],
        "queryOutboundOrder": by_number(recorded("query_outbound"))})
    outbound = provider.create_outbound(request())
    assert outbound.external_ids == ("WO2412190001", "WO2412190002")
    empty = {"code": "0", "msg": "操作成功",
             "data": {"list": [], "total": 0, "currentPageNum": 1, "currentPageSize": 50}}
    provider, _, _ = connect({"createOutboundOrder": recorded("errors")["unlisted"],
                                    "queryOutboundOrderList": empty})
    with pytest.raises(PermanentError) as exc:
        provider.create_outbound(request("NS-OTHER-1"))
    assert exc.value.code == "410123"


# -- query -----------------------------------------------------------------------------------

def test_a_split_order_is_as_far_as_its_slowest_part(connect, redis_conn):
    provider, gateway, unknown = connect({"queryOutboundOrder": by_number(recorded("query_outbound"))})
    provider._remember("outbound", "NS-SPLIT-1", ["WO2412190001", "WO2412190002"])
    outbound = provider.get_outbound("NS-SPLIT-1")
    assert outbound.status is OutboundStatus.PICKING  # one part shipped, one still picking
    assert [p.tracking_number for p in outbound.packages] == ["00340434161094042557"]
    assert outbound.packages[0].lines == (Line("MUG-BLUE", 2),) and outbound.packages[0].carrier == "DHL"
    assert outbound.packages[0].shipped_at == datetime(2024, 12, 19, 10, 30, tzinfo=UTC)
    assert outbound.external_ids == ("WO2412190001", "WO2412190002") and unknown == []
    assert [d["outboundOrderNum"] for d in gateway.sent("queryOutboundOrder")] == ["WO2412190001", "WO2412190002"]


def test_merge_is_conservative():
    shipped, _ = wm.parse_outbound("R", recorded("query_outbound")["WO2412190001"]["data"]["list"][0])
    picking, _ = wm.parse_outbound("R", recorded("query_outbound")["WO2412190002"]["data"]["list"][0])
    cancelled = picking.__class__(**{**picking.__dict__, "status": OutboundStatus.CANCELLED})
    broken = picking.__class__(**{**picking.__dict__, "status": OutboundStatus.EXCEPTION, "error": "lost"})
    assert wm.merge_outbound("R", [shipped, shipped]).status is OutboundStatus.SHIPPED
    assert wm.merge_outbound("R", [cancelled, cancelled]).status is OutboundStatus.CANCELLED
    partly = wm.merge_outbound("R", [shipped, cancelled])
    assert partly.status is OutboundStatus.EXCEPTION and "voided" in partly.error
    assert wm.merge_outbound("R", [shipped, broken]).status is OutboundStatus.EXCEPTION


def test_an_unknown_outbound_status_is_never_shipped_and_is_reported(connect):
    provider, _, unknown = connect({"queryOutboundOrder": by_number(recorded("query_outbound"))})
    provider._remember("outbound", "NS-ODD-1", ["WO2412190009"])
    outbound = provider.get_outbound("NS-ODD-1")
    assert outbound.status is OutboundStatus.RECEIVED and outbound.packages == () and "QZ" in outbound.error
    assert [(u.field, u.value, u.context) for u in unknown] == [("outbound.status", "QZ", "NS-ODD-1")]


# -- stock -----------------------------------------------------------------------------------

def test_stock_uses_the_live_fields(connect):
    provider, gateway, unknown = connect({"queryWarehouseStorage": recorded("warehouse_storage")["page"]})
    stock = {r.sku: r for r in provider.get_inventory("DE0001")}
    blue = stock["MUG-BLUE"]
    # qtyAvailable 4 is what may be sold; the deprecated inventory/reservedInventory would say 10.
    assert (blue.on_hand, blue.available, blue.reserved, blue.inbound) == (12, 4, 3, 25)
    red = stock["MUG-RED"]  # no qtyAvailable: nothing sellable, and a person is told
    assert (red.on_hand, red.available, red.reserved) == (7, 0, 1)
    tee = stock["TEE-M"]  # qtyAvailable above what the building holds: capped at inStockQty minus frozen
    assert (tee.on_hand, tee.available) == (5, 2)
    assert [(u.field, u.context) for u in unknown] == [("stock.qtyAvailable", "DE0001/MUG-RED")]
    assert gateway.sent("queryWarehouseStorage") == [{"warehouseID": "1000008", "pageNum": 1, "pageSize": 100}]


def test_stock_parser_documents_one_meaning_of_available():
    row = {"productCode": "X", "inStockQty": "20", "qtyAvailable": "8", "qtyWaitOut": "5", "qtyFrozen": 4,
           "qtyLostConfirming": 1, "qtyDestruction": 1, "prohibitFrozenQty": "1", "prohibitUsableQty": 0,
           "pipelineInventory": "6", "inventory": "20", "reservedInventory": "0"}
    ([record], problems) = parse_stock([row], "DE0001", NOW)
    assert (record.on_hand, record.available, record.reserved, record.inbound) == (20, 8, 5, 6) and not problems
    ([inactive], _) = parse_stock([{**row, "isActive": "N"}], "DE0001", NOW)
    assert inactive.available == 0
    ([rebuilt], problems) = parse_stock([{**row, "inStockQty": None}], "DE0001", NOW)
    assert (rebuilt.on_hand, rebuilt.available) == (20, 8) and [p.field for p in problems] == ["stock.inStockQty"]


# -- tracking --------------------------------------------------------------------------------

def test_tracking_covers_every_part_and_reports_unknown_events(connect):
    provider, gateway, unknown = connect({"tracking.getOrderVerdorTracking":
                                          lambda data: recorded("tracking")[data["trackingnos"]]})
    provider._remember("outbound", "NS-SPLIT-1", ["WO2412190001", "WO2412190002"])
    events = provider.tracking_events("NS-SPLIT-1")
    assert [(e.raw_code, e.status) for e in events] == [
        ("WPK", TrackingStatus.PENDING), ("WOB", TrackingStatus.INFO_RECEIVED), ("HUB9", TrackingStatus.IN_TRANSIT),
        ("DLV", TrackingStatus.DELIVERED)]
    assert events[0].occurred_at == datetime(2024, 12, 19, 7, 0, tzinfo=UTC)
    assert events[-1].tracking_number == "00340434161094042557" and events[-1].carrier == "DHL"
    assert [(u.field, u.value) for u in unknown] == [("tracking.eventCode", "HUB9")]
    assert [d["trackingnos"] for d in gateway.sent("tracking.getOrderVerdorTracking")] == ["WO2412190001",
                                                                                          "WO2412190002"]


# -- inbound ---------------------------------------------------------------------------------

def test_a_refused_inbound_is_found_on_a_later_page_through_its_detail(connect):
    answers = recorded("inbound")
    provider, gateway, unknown = connect({
        "winit.wh.inbound.order.create": recorded("errors")["duplicate"],
        "winit.wh.inbound.getOrderList": lambda data: answers[f"page{data['pageParams']['pageNo']}"],
        "winit.wh.inbound.getOrderDetail": lambda data: answers["detail"][data["orderNo"]]})
    provider.lookup_page_size = 2
    asn = InboundRequest(reference="NS-ASN-7", warehouse_code="DE0001", lines=(Line("MUG-RED", 30),))
    shipment = provider.create_inbound(asn)
    assert (shipment.external_id, shipment.status) == ("WI2412000103", "created")
    listed = gateway.sent("winit.wh.inbound.getOrderList")
    assert [d["pageParams"] for d in listed] == [{"pageNo": 1, "pageSize": 2}, {"pageNo": 2, "pageSize": 2}]
    assert all(d["destinationWareHouseCode"] == "DE0001" for d in listed)
    # Only rows with our item count are opened (WI2412000102 holds 12 units).
    assert [d["orderNo"] for d in gateway.sent("winit.wh.inbound.getOrderDetail")] == ["WI2412000101",
                                                                                       "WI2412000103"]
    assert unknown == [] and provider.create_inbound(asn).external_id == "WI2412000103"  # remembered


# -- returns ---------------------------------------------------------------------------------

def test_a_refused_return_is_found_by_seller_order_no_on_a_later_page(connect):
    answers = recorded("returns")
    provider, gateway, unknown = connect({
        "queryOutboundOrder": by_number(recorded("query_outbound")),
        "rma.returnGoodsOrder.createReturnGoodsOrder": recorded("errors")["duplicate"],
        "rma.returnGoodsOrder.queryReturnOderList": lambda data: answers[f"page{data['pageParams']['pageNo']}"]})
    provider.lookup_page_size = 2
    provider._remember("outbound", "NS-SPLIT-1", ["WO2412190001", "WO2412190002"])
    rma = provider.create_return(ReturnRequest("NS-RMA-7", "NS-SPLIT-1", (Line("MUG-BLUE", 1),)))
    assert (rma.external_id, rma.status) == ("RMA2412000003", "ordered")
    # Where the customer sends it: the warehouse's address line (queryWarehouse warehouseAddress).
    assert rma.address == ReturnAddress(name="德国仓", address1="Am Airport 3", city="Frankfurt", zip="60549",
                                        country_code="DE")
    (sent,) = gateway.sent("rma.returnGoodsOrder.createReturnGoodsOrder")
    # The part that shipped the mug, with the SDK's field names (ReturnGoodsList, no label flag).
    assert sent["outboundOrderNo"] == "WO2412190001" and sent["warehouseCode"] == "DE0001"
    assert sent["ReturnGoodsList"] == [{"productCode": "MUG-BLUE", "productNum": "1", "handleMethod": "SA"}]
    assert [d["pageParams"]["pageNo"] for d in gateway.sent("rma.returnGoodsOrder.queryReturnOderList")] == [1, 2]
    assert unknown == []


# -- errors ----------------------------------------------------------------------------------

def test_error_codes_map_to_connector_errors():
    errors = recorded("errors")

    def error(name):
        return codes.error_for(errors[name]["code"], errors[name]["msg"], operation="test")

    assert isinstance(error("sign"), AuthError)
    assert isinstance(error("throttled"), RetryableError) and error("throttled").retry_after == 1.0
    assert isinstance(error("duplicate"), codes.WinitDuplicateError)
    assert error("field").field == "ship_to.city"
    unlisted = error("unlisted")
    assert type(unlisted) is PermanentError and unlisted.code == "410123"
