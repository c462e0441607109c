"""ShipBob and FBA answers shaped as their published definitions, through the connectors' mapping.

The ShipBob answers are written from the 2026-07 API reference (view models named in each test);
the FBA summary from the fbaInventory model. A connector written against a guess of these shapes
fails here even when the emulator shares the guess.
"""

from __future__ import annotations

import json

import pytest

from connectors.warehouses.countries import normalise_country
from connectors.warehouses.fba import parse_stock
from connectors.warehouses.shipbob_mapping import (
    center_site,
    describe_error,
    level_records,
    order_body,
    order_to_outbound,
    unmapped_statuses,
)
from connectors.warehouses.shipbob_tracking import timeline_events, unmapped_tracking
from integration.domain.orders import Address
from integration.domain.warehousing import ExceptionReason, Line, OutboundRequest, OutboundStatus, TrackingStatus
from tests.amazon_fixtures import MODELS

# Receiving.FulfillmentCenterViewModel, as in the example of GET /2026-07/fulfillment-center.
CICERO = {"id": 10, "name": "Cicero (IL)", "address1": "5900 W Ogden Ave", "address2": "Suite 100", "city": "Cicero",
          "state": "IL", "country": "USA", "zip_code": "60804", "timezone": "Central Standard Time",
          "email": "example@example.com", "phone_number": "555-555-5555"}

# Inventory.InventoryLevelLocationResponse item (GET /inventory-level/{id}/locations + sku).
LEVELS = {"inventory_id": 1234, "sku": "TEE-BLK-M", "name": "Organic Tee", "locations": [
    {"location_id": 10, "name": "Cicero (IL)", "on_hand_quantity": 40, "committed_quantity": 6,
     "fulfillable_quantity": 31, "awaiting_quantity": 100, "internal_transfer_quantity": 3},
    {"location_id": 87, "name": "Venlo (NL)", "on_hand_quantity": 0, "committed_quantity": 0,
     "fulfillable_quantity": 0, "awaiting_quantity": 0, "internal_transfer_quantity": 0},
]}


def shipment(shipment_id: int, status: str, details: list[tuple[int, str]], *, tracking: str | None = None) -> dict:
    """Orders.ShipmentViewModel with its status_details (ids and names of the status reference)."""
    return {
        "id": shipment_id, "order_id": 555, "reference_id": "NS-1-DE", "status": status,
        "status_details": [{"id": i, "name": name, "description": name, "inventory_id": None} for i, name in details],
        "location": {"id": 10, "name": "Cicero (IL)"}, "last_update_at": "2026-12-01T10:00:00.1234567+00:00",
        "actual_fulfillment_date": "2026-12-01T09:00:00Z",
        "products": [{"id": 1, "reference_id": "TEE-BLK-M", "name": "Organic Tee", "sku": "TEE-BLK-M",
                      "inventory_items": [{"id": 1234, "name": "Organic Tee", "quantity": 2}]}],
        "tracking": None if tracking is None else {
            "carrier": "USPS", "carrier_service": "Ground Advantage", "tracking_number": tracking,
            "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking}",
            "shipping_date": "2026-12-01T09:30:00Z", "bol": None, "pro_number": None, "scac": None},
    }


def order(*shipments: dict, status: str = "Processing") -> dict:
    """Orders.OrderViewModel (GET /order/{id})."""
    return {"id": 555, "reference_id": "NS-1-DE", "order_number": "#1001", "status": status, "type": "DTC",
            "channel": {"id": 100102, "name": "Nearstock API"}, "created_date": "2026-12-01T08:00:00Z",
            "shipments": list(shipments)}


def test_fulfillment_center_country_is_alpha3_in_the_reference():
    site = center_site(CICERO)
    assert (site.code, site.country_code, site.region) == ("10", "US", "US-IL")
    assert center_site({**CICERO, "country": "US"}).country_code == "US"  # the FAQ's sample
    assert center_site({**CICERO, "country": "Atlantis"}).country_code is None


@pytest.mark.parametrize(("sent", "code"), [("USA", "US"), ("NLD", "NL"), ("DEU", "DE"), ("GBR", "GB"),
                                            ("gb", "GB"), ("United Kingdom", "GB"), ("SUN", None), ("", None)])
def test_country_codes_read_as_alpha2(sent, code):
    assert normalise_country(sent) == code


# Orders.CreateOrderModel, Orders.RecipientInfoViewModel, Orders.AddressViewModel and the
# reference-id product model of POST /2026-07/order: every field the reference names.
ORDER_FIELDS = {"reference_id", "order_number", "type", "shipping_method", "recipient", "products", "location_id",
                "tags", "gift_message", "shipping_terms", "retailer_program_data", "financials", "purchase_date"}
RECIPIENT_FIELDS = {"name", "email", "phone_number", "address"}
ADDRESS_FIELDS = {"address1", "address2", "company_name", "city", "state", "country", "zip_code", "type"}
PRODUCT_FIELDS = {"reference_id", "name", "quantity", "quantity_unit_of_measure_code", "gtin", "upc",
                  "unit_price", "external_line_id", "sku"}


def test_create_order_body_uses_the_documented_fields_only():
    request = OutboundRequest(
        reference="NS-1-10", warehouse_code="10", email="erika@example.com", order_name="#1001",
        ship_to=Address(name="Erika Mustermann", address1="100 N Racine Ave", city="Chicago", zip="60607",
                        province_code="IL", country_code="us", phone="555-555-5555"),
        lines=(Line("TEE-BLK-M", 2),))
    body = order_body(request)
    assert set(body) <= ORDER_FIELDS and set(body["recipient"]) <= RECIPIENT_FIELDS
    assert set(body["recipient"]["address"]) <= ADDRESS_FIELDS
    assert all(set(product) <= PRODUCT_FIELDS for product in body["products"])
    assert (body["reference_id"], body["location_id"], body["type"]) == ("NS-1-10", 10, "DTC")
    assert body["recipient"]["address"]["country"] == "US" and body["products"][0]["quantity"] == 2


@pytest.mark.parametrize(("answer", "message", "field"), [
    # 422 on a duplicate reference_id (https://developer.shipbob.com/errors)
    ({"": ["Cannot insert order with existing ReferenceId"]}, "Cannot insert order with existing ReferenceId", None),
    # RFC 7807 ProblemDetails with validation errors (inventory, products, receiving)
    ({"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1", "title": "One or more validation errors occurred.",
      "status": 400, "errors": {"Recipient.Address.Country": ["The Country field is required."]}},
     "One or more validation errors occurred.: The Country field is required.", "Recipient.Address.Country"),
    # 429 and the returns API
    ({"message": "API calls quota exceeded! maximum admitted 150 per 1m."},
     "API calls quota exceeded! maximum admitted 150 per 1m.", None),
])
def test_error_bodies_are_described(answer, message, field):
    assert describe_error(answer, "HTTP 4xx") == (message, field)


def test_available_is_fulfillable_not_on_hand():
    records = {r.warehouse_code: r for r in level_records(LEVELS)}
    cicero = records["10"]
    assert (cicero.on_hand, cicero.available, cicero.reserved, cicero.inbound) == (40, 31, 6, 100)
    assert records["87"].available == 0


def test_order_statuses_through_the_status_reference():
    labeled = shipment(1, "Processing", [(102, "Labeled")], tracking="9400100000000000000001")
    result = order_to_outbound(order(labeled))
    assert result.status is OutboundStatus.SHIPPED and result.packages[0].tracking_number.endswith("0001")
    assert result.packages[0].lines[0].quantity == 2 and result.warehouse_code == "10"
    picking = shipment(2, "Processing", [(100, "Picked")])
    assert order_to_outbound(order(labeled, picking)).status is OutboundStatus.PICKING  # least advanced wins
    on_hold = shipment(3, "OnHold", [(401, "InvalidAddress")])
    stuck = order_to_outbound(order(labeled, on_hold))
    assert stuck.status is OutboundStatus.EXCEPTION and "InvalidAddress" in stuck.error
    cancelled = shipment(4, "Cancelled", [])
    assert order_to_outbound(order(cancelled)).status is OutboundStatus.CANCELLED
    assert unmapped_statuses(order(labeled, picking, on_hold, cancelled)) == []


def test_an_unknown_status_is_never_read_as_shipped_and_is_named():
    odd = order(shipment(1, "Teleported", []))
    assert order_to_outbound(odd).status is OutboundStatus.RECEIVED
    assert unmapped_statuses(odd) == [("shipment.status", "Teleported")]
    assert unmapped_statuses(order(status="Archived")) == [("order.status", "Archived")]
    assert unmapped_statuses(order(status="Processing")) == []


def test_timeline_events_and_unknown_codes():
    shipped = shipment(1, "Completed", [(201, "InTransit")], tracking="9400100000000000000001")
    logs = [  # Orders.ShipmentLogViewModel entries of GET /shipment/{id}/timeline
        {"log_type_id": 100, "log_type_name": "Picked", "log_type_text": "Picking Completed",
         "timestamp": "2026-12-01T08:30:00Z", "metadata": {}},
        {"log_type_id": 201, "log_type_name": "InTransit", "log_type_text": "Shipment In Transit",
         "timestamp": "2026-12-02T08:30:00Z", "metadata": {"location": "Chicago, IL"}},
        {"log_type_id": 204, "log_type_name": "DeliveryException", "log_type_text": "Held",
         "timestamp": "2026-12-03T08:30:00Z", "metadata": {"exception": "CustomsHold"}},
        {"log_type_id": 204, "log_type_name": "DeliveryException", "log_type_text": "Odd",
         "timestamp": "2026-12-04T08:30:00Z", "metadata": {"exception": "EatenByDog"}},
        {"log_type_id": 999, "log_type_name": "Teleported", "log_type_text": "?",
         "timestamp": "2026-12-05T08:30:00Z", "metadata": {}},
    ]
    events = timeline_events(shipped, logs)
    assert [(e.status, e.reason) for e in events] == [
        (TrackingStatus.IN_TRANSIT, None), (TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),
        (TrackingStatus.EXCEPTION, None), (TrackingStatus.PENDING, None)]
    assert unmapped_tracking(events) == ["DeliveryException/EatenByDog", "Teleported"]


def test_unknown_values_reach_the_merchant_side(make_shipbob_emulator, make_shipbob_provider):
    emulator = make_shipbob_emulator(fulfillment_centers={10: "US", 99: {"name": "Mars base", "country": "Mars"}})
    reported = []
    sites = {s.code: s for s in make_shipbob_provider(emulator, on_unknown=reported.append).list_warehouses()}
    assert sites["10"].country_code == "US" and sites["99"].country_code is None
    assert [(u.system, u.field, u.value, u.context) for u in reported] == [
        ("shipbob", "fulfillment_center.country", "Mars", "99")]


def test_fba_available_is_fulfillable_quantity():
    summary = {  # fbaInventory InventorySummary with details=true
        "asin": "B0TEST0001", "fnSku": "X00TEST001", "sellerSku": "MUG-BLUE", "condition": "NewItem",
        "lastUpdatedTime": "2026-12-01T08:00:00Z", "productName": "Blue mug", "totalQuantity": 57,
        "inventoryDetails": {
            "fulfillableQuantity": 30, "inboundWorkingQuantity": 5, "inboundShippedQuantity": 4,
            "inboundReceivingQuantity": 1,
            "reservedQuantity": {"totalReservedQuantity": 8, "pendingCustomerOrderQuantity": 6,
                                 "pendingTransshipmentQuantity": 1, "fcProcessingQuantity": 1},
            "researchingQuantity": {"totalResearchingQuantity": 2, "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": 7, "customerDamagedQuantity": 3,
                                      "warehouseDamagedQuantity": 2, "distributorDamagedQuantity": 0,
                                      "carrierDamagedQuantity": 0, "defectiveQuantity": 2, "expiredQuantity": 0}},
    }
    record = parse_stock(summary, "A1PA6795UKMFR9")
    assert (record.available, record.reserved, record.inbound, record.on_hand) == (30, 8, 10, 47)


def test_fba_fields_read_are_in_the_model():
    model = MODELS / "fbaInventory.json"
    if not model.exists():
        pytest.skip(f"official SP-API models not found in {MODELS} (set AMAZON_MODELS_DIR)")
    definitions = json.loads(model.read_text(encoding="utf-8"))["definitions"]
    details = definitions["InventoryDetails"]["properties"]
    for field in ("fulfillableQuantity", "inboundWorkingQuantity", "inboundShippedQuantity",
                  "inboundReceivingQuantity", "reservedQuantity"):
        assert field in details
    assert "totalReservedQuantity" in definitions["ReservedQuantity"]["properties"]
    assert {"sellerSku", "totalQuantity", "lastUpdatedTime"} <= set(definitions["InventorySummary"]["properties"])
    assert "picked, packed, and shipped" in details["fulfillableQuantity"]["description"]
