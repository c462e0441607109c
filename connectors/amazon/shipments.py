"""Shipment confirmation of merchant-fulfilled Amazon orders (Orders API v0 ``confirmShipment``).

The Orders API v2026-01-01 has no write operations, so this stays on v0. One call per package:
its carrier, tracking number, ship date and the order items (with quantities) inside it; a partly
shipped order becomes PartiallyShipped, the last package makes it Shipped. ``carrierCode`` is
required in every marketplace
(https://developer-docs.amazon.com/sp-api/changelog/carriercode-value-required-in-shipment-confirmations-for-br-mx-ca-sg-au-in-jp-marketplaces);
a carrier Amazon does not list goes as ``Other`` with ``carrierName``.
``packageReferenceId`` is ours and unique per order, so a retried confirmation names the same package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from connectors.errors import PermanentError
from integration.domain.channels import ShipmentPackage

from .client import SpApiClient, iso

# Our carrier names (lower-case letters and digits only) -> Amazon CarrierCode values.
CARRIER_CODES = {
    "amazonshipping": "Amazon Shipping", "ups": "UPS", "usps": "USPS", "fedex": "FedEx", "ontrac": "OnTrac",
    "dhl": "DHL", "dhlexpress": "DHL", "dhlecommerce": "DHL eCommerce", "deutschepost": "Deutsche Post",
    "dpd": "DPD", "gls": "GLS", "hermes": "Hermes", "evri": "Evri", "royalmail": "Royal Mail",
    "parcelforce": "Parcelforce", "laposte": "La Poste", "colissimo": "Colissimo", "chronopost": "Chronopost",
    "correos": "Correos", "seur": "SEUR", "postnl": "PostNL", "posteitaliane": "Poste Italiane", "brt": "BRT",
    "tnt": "TNT", "canadapost": "Canada Post", "australiapost": "Australia Post", "japanpost": "Japan Post",
    "yamato": "Yamato Transport", "yamatotransport": "Yamato Transport", "sagawa": "Sagawa Express",
    "chinapost": "China Post", "sfexpress": "SF Express", "yunexpress": "YunExpress", "4px": "4PX",
}


def carrier_code(carrier: str | None) -> tuple[str, str | None]:
    """(carrierCode, carrierName) for a carrier name as warehouses report it."""
    if not carrier:
        raise PermanentError("a carrier is required to confirm an Amazon shipment", field="carrier",
                             code="missing_carrier", system="amazon")
    code = CARRIER_CODES.get(re.sub(r"[^a-z0-9]", "", carrier.lower()))
    return (code, None) if code else ("Other", carrier)


def confirmation_body(package: ShipmentPackage, marketplace_id: str) -> dict:
    if not package.items or any(quantity < 1 for _, quantity in package.items):
        raise PermanentError("a package needs order items with positive quantities", field="items",
                             code="empty_package", system="amazon")
    code, name = carrier_code(package.carrier)
    detail = {
        "packageReferenceId": package.package_reference_id, "carrierCode": code,
        "trackingNumber": package.tracking_number, "shipDate": iso(package.ship_date),
        "orderItems": [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in package.items],
    }
    if name:
        detail["carrierName"] = name
    if package.shipping_method:
        detail["shippingMethod"] = package.shipping_method
    if package.ship_from_supply_source_id:
        detail["shipFromSupplySourceId"] = package.ship_from_supply_source_id
    return {"marketplaceId": marketplace_id, "packageDetail": detail}


def confirm_shipment(client: SpApiClient, order_id: str, package: ShipmentPackage) -> None:
    """Confirm one package of an MFN order (204 No Content on success)."""
    client.call("ordersV0.confirmShipment", path={"orderId": order_id}, external_id=order_id,
                body=confirmation_body(package, client.marketplace_id))


def confirm_shipments(client: SpApiClient, order_id: str, packages: Sequence[ShipmentPackage]) -> None:
    """One ``confirmShipment`` call per package, in order."""
    for package in packages:
        confirm_shipment(client, order_id, package)
