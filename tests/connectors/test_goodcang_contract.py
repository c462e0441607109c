"""GoodcangProvider's mapping fed with answers in Goodcang's published shapes (no emulator).

The answers under ``tests/fixtures/goodcang/`` were written from the public SDK's models
(``EalenXie/sdk-all`` goodcang-sdk); a connector reading other keys fails here even when the
emulator agrees with it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses.goodcang import GoodcangProvider
from integration.domain.orders import Address
from integration.domain.warehousing import (
    ExceptionReason,
    InboundRequest,
    Line,
    OutboundRequest,
    OutboundStatus,
    ReturnAddress,
    ReturnRequest,
    TrackingStatus,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "goodcang"
ENDPOINT = "https://goodcang.test/public_open"
MIAMI = Address(first_name="Katiu", last_name="Fake", address1="2225 5th Ave", city="Miami", province_code="FL",
                zip="33000", country_code="US", phone="88888888")


def recorded(name: str) -> dict:
    body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    body.pop("_source", None)
    return body


def answer(status: int, body) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body, ensure_ascii=False).encode() if not isinstance(body, bytes) else body
    response.headers["Content-Type"] = "application/json"
    return response


class RecordedGoodcang:
    """A session whose answers are queued per action; it keeps every request it was sent."""

    def __init__(self) -> None:
        self.queue: dict[str, list[requests.Response]] = {}
        self.sent: list[tuple[str, dict]] = []

    def on(self, action: str, body, status: int = 200) -> RecordedGoodcang:
        self.queue.setdefault(action, []).append(answer(status, body))
        return self

    def post(self, url: str, data: bytes, headers: dict) -> requests.Response:
        action = url[len(ENDPOINT) + 1:]
        self.sent.append((action, json.loads(data)))
        assert headers["app-key"] == "k" and headers["app-token"] == "t"  # sdk:GoodCangClient.java
        return self.queue[action].pop(0)

    def payloads(self, action: str) -> list[dict]:
        return [payload for sent, payload in self.sent if sent == action]


@pytest.fixture
def wire():
    return RecordedGoodcang()


@pytest.fixture
def unknowns():
    return []


@pytest.fixture
def provider(wire, unknowns, redis_conn):
    return GoodcangProvider({"app_key": "k", "app_token": "t"}, redis=redis_conn, account_key="contract",
                            endpoint=ENDPOINT, session=wire, on_unknown=unknowns.append)


def failure(code: str, message: str) -> dict:
    return {"ask": "Failure", "message": message, "Error": {"errMessage": message, "errCode": code}}


# -- create, query, tracking -------------------------------------------------------------------

def test_create_outbound_reads_the_top_level_order_code(provider, wire):
    wire.on("base_data/get_shipping_method",
            {"ask": "Success", "message": "Success", "data": [{"code": "FEDEX-SMALLPARCEL", "warehouse_code": "USEA"}]})
    wire.on("order/create_order", recorded("create_order"))
    created = provider.create_outbound(OutboundRequest("NS-1001-1", "USEA", MIAMI, (Line("MUG-BLUE", 2),)))
    assert (created.external_id, created.status) == ("G1149-240311-0007", OutboundStatus.RECEIVED)
    assert wire.payloads("base_data/get_shipping_method") == [{"warehouseCode": "USEA"}]
    (sent,) = wire.payloads("order/create_order")
    assert sent["items"] == [{"product_sku": "MUG-BLUE", "quantity": 2}] and sent["reference_no"] == "NS-1001-1"


def test_query_maps_a_shipped_order_and_its_tracking(provider, wire, unknowns):
    wire.on("order/get_order_by_ref_code", recorded("get_order_by_ref_code"))
    wire.on("order/query_tracking_status", recorded("query_tracking_status"))
    outbound = provider.get_outbound("NS-1001-1")
    assert outbound.status is OutboundStatus.DELIVERED  # "D" upgraded by the TMS_FD event
    (package,) = outbound.packages
    assert (package.tracking_number, package.carrier, package.lines) == (
        "794612345678", "FEDEX-SMALLPARCEL", (Line("MUG-BLUE", 2),))
    assert package.shipped_at == datetime(2024, 3, 12, 0, 15, tzinfo=UTC)  # Beijing 08:15
    assert outbound.updated_at == datetime(2024, 3, 12, 0, 15, 3, tzinfo=UTC)
    assert wire.payloads("order/query_tracking_status") == [{"reference_no": "NS-1001-1"}]
    assert unknowns == []


def test_tracking_reads_the_item_list_oldest_first(provider, wire):
    wire.on("order/query_tracking_status", recorded("query_tracking_status"))
    events = provider.tracking_events("NS-1001-1")
    assert [(e.status, e.reason) for e in events] == [
        (TrackingStatus.IN_TRANSIT, None), (TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),
        (TrackingStatus.DELIVERED, None)]
    assert events[0].occurred_at == datetime(2024, 3, 12, 1, 0, tzinfo=UTC)
    assert events[-1].location == "MIAMI, FL" and events[-1].raw_code == "TMS_FD"


def test_an_unknown_order_status_or_tracking_code_is_reported_and_read_conservatively(provider, wire, unknowns):
    order = recorded("get_order_by_ref_code")
    order["data"]["order_status"] = "Q"
    wire.on("order/get_order_by_ref_code", order)
    assert provider.get_outbound("NS-1001-1").status is OutboundStatus.EXCEPTION
    track = recorded("query_tracking_status")
    track["data"]["trajectory_information"][0]["item"][0]["code"] = "TMS_NEW"
    wire.on("order/query_tracking_status", track)
    assert provider.tracking_events("NS-1001-1")[-1].status is not TrackingStatus.DELIVERED
    assert [(u.field, u.value) for u in unknowns] == [("order.order_status", "Q"), ("tracking.code", "TMS_NEW")]


def test_cancel_reads_cancel_status(provider, wire, unknowns):
    waiting = recorded("get_order_by_ref_code")
    waiting["data"]["order_status"] = "W"
    cancelled = recorded("get_order_by_ref_code")
    cancelled["data"]["order_status"] = "X"
    wire.on("order/get_order_by_ref_code", waiting).on("order/get_order_by_ref_code", cancelled)
    wire.on("order/cancel_order", {"ask": "Success", "message": "Success", "order_code": "G1149-240311-0007",
                                   "cancel_status": 2})  # sdk:warehouse/CancelOrderResponse.java
    assert provider.cancel_outbound("NS-1001-1").status is OutboundStatus.CANCELLED
    assert wire.payloads("order/cancel_order")[0]["order_code"] == "G1149-240311-0007"
    wire.on("order/get_order_by_ref_code", waiting).on("order/get_order_by_ref_code", waiting)
    wire.on("order/cancel_order", {"ask": "Success", "message": "Success", "order_code": "G1149-240311-0007",
                                   "cancel_status": 1})
    assert provider.cancel_outbound("NS-1001-1").status is OutboundStatus.RECEIVED
    assert [(u.field, u.value) for u in unknowns] == [("cancel_order.cancel_status", "1")]


# -- stock -------------------------------------------------------------------------------------

def test_stock_uses_the_live_inventory_fields(provider, wire, unknowns):
    wire.on("inventory/get_product_inventory", recorded("get_product_inventory"))
    records = {(r.warehouse_code, r.sku): r for r in provider.get_inventory()}
    mug = records[("USEA", "MUG-BLUE")]
    # available = sellable 50 - pi_freeze 5 - pi_no_stock 2; on_hand = 50 + reserved 4 + unsellable 3 + pending 6
    assert (mug.available, mug.on_hand, mug.reserved, mug.inbound) == (43, 63, 4, 40)
    tee = records[("USEA", "TEE-M")]  # counts as strings; product frozen (status 1)
    assert (tee.available, tee.on_hand, tee.reserved) == (0, 21, 1)
    assert records[("DE", "CAP-RED")].available == 0  # freeze status 7: unknown, nothing sold
    assert records[("DE", "LAMP-01")].available == 0  # pi_freeze missing: cannot compute, nothing sold
    assert sorted((u.field, u.value) for u in unknowns) == [
        ("inventory.pi_freeze", "None"), ("inventory.product_freeze_status", "7")]
    (sent,) = wire.payloads("inventory/get_product_inventory")
    assert sent == {"page": 1, "pageSize": 200}


def test_inventory_pages_by_count_whatever_page_size_the_server_applied(provider, wire):
    first, second = recorded("get_product_inventory"), recorded("get_product_inventory")
    first["data"], second["data"] = first["data"][:2], second["data"][2:]  # the server used pages of 2
    wire.on("inventory/get_product_inventory", first).on("inventory/get_product_inventory", second)
    assert len(provider.get_inventory()) == 4
    assert [p["page"] for p in wire.payloads("inventory/get_product_inventory")] == [1, 2]


# -- inbound and returns -----------------------------------------------------------------------

ASN_7 = InboundRequest(reference="ASN-7", warehouse_code="USEA", lines=(Line("TEE-M", 10),),
                       expected_at=datetime(2030, 5, 1, tzinfo=UTC), tracking_number="1Z999")


def test_a_retried_inbound_finds_its_grn_on_a_later_page(provider, wire, unknowns):
    wire.on("inbound_order/create_grn", recorded("create_grn_duplicate"))
    wire.on("inbound_order/get_grn_list", recorded("get_grn_list_page1"))
    wire.on("inbound_order/get_grn_list", recorded("get_grn_list_page2"))
    shipment = provider.create_inbound(ASN_7)
    assert (shipment.external_id, shipment.status) == ("RVG1149-240311-0001", "received")
    listed = wire.payloads("inbound_order/get_grn_list")
    assert [p["page"] for p in listed] == [1, 2]
    assert all("reference_no" not in p and {"create_date_from", "create_date_to", "pageSize"} <= set(p)
               for p in listed)  # sdk:warehouse/GrnListPayload.java has no reference_no filter
    assert unknowns == []


def test_a_retried_inbound_not_listed_yet_is_retryable_not_permanent(provider, wire):
    page = recorded("get_grn_list_page1")
    page["count"] = 2
    wire.on("inbound_order/create_grn", recorded("create_grn_duplicate"))
    wire.on("inbound_order/get_grn_list", page)
    with pytest.raises(RetryableError):
        provider.create_inbound(ASN_7)


def test_a_retried_return_finds_the_existing_one(provider, wire):
    wire.on("order/get_order_by_ref_code", recorded("get_order_by_ref_code"))
    wire.on("return_order/create", failure("10105001", "退货单参考号已存在 (ref_no RMA-1 already exists)"))
    wire.on("base_data/get_warehouse", recorded("get_warehouse"))
    wire.on("return_order/search", recorded("return_order_search"))
    rma = provider.create_return(ReturnRequest("RMA-1", "NS-1001-1", (Line("MUG-BLUE", 1),), reason="Chipped"))
    assert (rma.external_id, rma.status) == ("RG1149-240315-0002", "submitted")
    # The customer sends it to the order's warehouse, at its physical site's address (Wp.address).
    assert rma.address == ReturnAddress(name="GC Returns", address1="Raritan Center Pkwy 300", address2="Door 12",
                                        city="Edison", zip="08817", country_code="US", province="NJ",
                                        phone="7325550100")
    assert wire.payloads("return_order/search") == [{"reference_no": "RMA-1"}]
    (sent,) = wire.payloads("return_order/create")
    assert sent["product_list"] == [{"product_sku": "MUG-BLUE", "num": 1}] and sent["ref_no"] == "RMA-1"


# -- errors ------------------------------------------------------------------------------------

def test_errors_are_classified(provider, wire, unknowns):
    wire.on("base_data/get_warehouse", failure("401", "app-token或app-key错误"), status=401)
    with pytest.raises(AuthError):
        provider.list_warehouses()
    wire.on("base_data/get_warehouse", failure("403", "请求过于频繁"), status=403)
    with pytest.raises(RetryableError):
        provider.list_warehouses()
    wire.on("base_data/get_warehouse", failure("10100002", "warehouse_code不能为空"))
    with pytest.raises(PermanentError) as caught:
        provider.list_warehouses()
    assert (caught.value.code, caught.value.field) == ("10100002", "warehouse_code")
    assert unknowns == []
    wire.on("base_data/get_warehouse", failure("20990001", "something new"))
    with pytest.raises(PermanentError):
        provider.list_warehouses()
    assert [(u.field, u.value) for u in unknowns] == [("Error.errCode", "20990001")]


def test_the_v2_envelope_succeeds_with_code_1(provider, wire):
    # sdk:ResponseAsk.java isSuccess(): "Success".equals(ask) || 1 == code
    wire.on("base_data/get_warehouse", {"code": 1, "message": "success",
                                        "data": [{"warehouse_code": "USEA", "warehouse_name": "美东仓库",
                                                  "country_code": "US", "wp_list": []}]})
    assert [s.code for s in provider.list_warehouses()] == ["USEA"]
    wire.on("base_data/get_warehouse", {"code": 0, "message": "参数错误", "data": None})
    with pytest.raises(PermanentError):
        provider.list_warehouses()


def test_a_retried_outbound_whose_order_is_not_listed_yet_is_retryable(provider, wire):
    wire.on("order/create_order", failure("10103001", "参考号已存在 (reference_no NS-9 already exists)"))
    wire.on("order/get_order_by_ref_code", failure("10103086", "no data"))
    request = OutboundRequest("NS-9", "USEA", MIAMI, (Line("MUG-BLUE", 1),), shipping_service="FEDEX-SMALLPARCEL")
    with pytest.raises(RetryableError):
        provider.create_outbound(request)
