"""confirmShipment: one call per package, carrier codes, partial then full shipment."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.amazon import orders
from connectors.amazon.shipments import ShipmentPackage, carrier_code, confirm_shipment, confirm_shipments
from connectors.errors import PermanentError
from tests.amazon_fixtures import DE


def _package(ref, items, carrier="DHL Express", tracking="00340434161094042557"):
    return ShipmentPackage(package_reference_id=ref, carrier=carrier, tracking_number=tracking,
                           ship_date=datetime(2026, 3, 2, 9, 30, tzinfo=UTC), items=tuple(items))


def test_each_package_is_one_confirmation(amazon_emulator, amazon_client):
    order = amazon_emulator.state.add_order([("NS-0001", 2), ("NS-0002", 1)], marketplace_id=DE)
    first, second = order.items
    confirm_shipment(amazon_client, order.order_id, _package("1", [(first.order_item_id, 2)]))
    assert amazon_emulator.state.orders[order.order_id].status == "PARTIALLY_SHIPPED"
    assert orders.get_order(amazon_client, order.order_id).fulfillment_status == "PartiallyShipped"
    confirm_shipments(amazon_client, order.order_id,
                      [_package("2", [(second.order_item_id, 1)], carrier="Kuehne Logistics", tracking="KN1")])
    assert amazon_emulator.state.orders[order.order_id].status == "SHIPPED"
    calls = amazon_emulator.exchanges_for("ordersV0.confirmShipment")
    assert [c.status for c in calls] == [204, 204]
    body = json.loads(calls[0].body)
    assert body == {"marketplaceId": DE, "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "DHL", "trackingNumber": "00340434161094042557",
        "shipDate": "2026-03-02T09:30:00Z", "orderItems": [{"orderItemId": first.order_item_id, "quantity": 2}]}}
    other = json.loads(calls[1].body)["packageDetail"]
    assert other["carrierCode"] == "Other" and other["carrierName"] == "Kuehne Logistics"
    packages = amazon_emulator.state.orders[order.order_id].packages
    assert [p["trackingNumber"] for p in packages] == ["00340434161094042557", "KN1"]


def test_a_retried_confirmation_of_the_same_package_is_harmless(amazon_emulator, amazon_client):
    order = amazon_emulator.state.add_order([("NS-0001", 1)], marketplace_id=DE)
    package = _package("P1", [(order.items[0].order_item_id, 1)])
    confirm_shipment(amazon_client, order.order_id, package)
    confirm_shipment(amazon_client, order.order_id, package)
    assert len(amazon_emulator.state.orders[order.order_id].packages) == 1


def test_amazon_fulfilled_orders_cannot_be_confirmed(amazon_emulator, amazon_client):
    order = amazon_emulator.state.add_order([("NS-0001", 1)], marketplace_id=DE, fulfilled_by="AMAZON")
    with pytest.raises(PermanentError) as info:
        confirm_shipment(amazon_client, order.order_id, _package("1", [(order.items[0].order_item_id, 1)]))
    assert info.value.code == "InvalidInput"


def test_more_than_ordered_is_refused(amazon_emulator, amazon_client):
    order = amazon_emulator.state.add_order([("NS-0001", 1)], marketplace_id=DE)
    with pytest.raises(PermanentError):
        confirm_shipment(amazon_client, order.order_id, _package("1", [(order.items[0].order_item_id, 3)]))


def test_empty_packages_are_refused_before_calling(amazon_emulator, amazon_client):
    with pytest.raises(PermanentError):
        confirm_shipment(amazon_client, "028-1234567-8901234", _package("1", []))
    assert amazon_emulator.exchanges_for("ordersV0.confirmShipment") == []


@pytest.mark.parametrize(("name", "expected"), [
    ("DHL", ("DHL", None)), ("Royal-Mail", ("Royal Mail", None)), ("yun express", ("YunExpress", None)),
    ("Fastway NZ", ("Other", "Fastway NZ"))])
def test_carrier_codes(name, expected):
    assert carrier_code(name) == expected
