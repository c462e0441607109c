"""How the ShipBob emulator shows warehouse state: ShipBob's JSON shapes built from the sim.

Shapes follow the OpenAPI view models (``Orders.OrderViewModel``, ``Orders.ShipmentViewModel``,
``Orders.ShipmentLogViewModel``, ``Inventory.InventoryQuantityFcResponse``,
``Receiving.V2.WarehouseReceivingOrderViewModel``, the return order view); statuses and status
details follow https://developer.shipbob.com/status-reference (ids 100-204, 303, 401).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from babel.core import get_global

from .sim import EXCEPTIONS, SimOrder

# sim event code -> (status detail id, name, description) while the shipment is Completed
CARRIER_DETAIL = {
    "shipped": (200, "Processing", "Waiting For Carrier Pickup"),
    "info_received": (200, "Processing", "Waiting For Carrier Pickup"),
    "in_transit": (201, "InTransit", "Shipment In Transit"),
    "out_for_delivery": (202, "OutForDelivery", "Shipment Out For Delivery"),
    "delivered": (203, "Delivered", "Shipment Delivered"),
}
# sim carrier exception -> ShipBob carrier exception sub-type (see connectors/warehouses/shipbob_tracking.py)
EXCEPTION_SUBTYPE = {
    "customs_delay": ("CustomsHold", "Held by customs"),
    "delivery_delay": ("DeliveryDelayed", "Delivery delayed by the carrier"),
    "failed_attempt": ("DeliveryAttemptFailed", "Delivery attempted, recipient not available"),
    "address_problem": ("AddressIssue", "Carrier reports an address problem"),
    "lost": ("Lost", "Parcel lost by the carrier"),
    "damaged": ("Damaged", "Parcel damaged in transit"),
    "returned_to_sender": ("ReturnToSender", "Returned to sender"),
}
# sim event code -> timeline entry (log_type_id, log_type_name, log_type_text)
TIMELINE = {"picked": (100, "Picked", "Picking Completed"), "shipped": (102, "Labeled", "Label Generated"),
            **{code: detail for code, detail in CARRIER_DETAIL.items() if code != "shipped"}}
CARRIER_CODES = set(CARRIER_DETAIL) - {"shipped"} | set(EXCEPTIONS)
# sim return status -> Returns ReturnStatus (AwaitingArrival, Arrived, Processing, Completed, Cancelled)
RETURN_STATUS = {"created": "AwaitingArrival", "received": "Processing", "inspected": "Completed",
                 "cancelled": "Cancelled"}
# sim grade -> action_taken[].action (Restock / Dispose: the actions ShipBob's Returns API documents)
RETURN_ACTIONS = {"sellable": "Restock", "unsellable": "Dispose"}
OUT_OF_STOCK = (303, "OutOfStock", "No Stock On Hand For Sku")
INVALID_ADDRESS = (401, "InvalidAddress", "Invalid Address")


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class EmuOrder:
    """ShipBob's side of an order. Orders ShipBob could not release to the floor (on hold,
    exception) never reach the sim: ``status``/``detail`` then describe them."""

    order_id: int
    shipment_id: int
    reference: str
    channel_id: int
    body: dict
    location_id: int
    created_at: float
    in_sim: bool
    status: str | None = None
    detail: tuple[int, str, str] | None = None
    updated_at: float = 0.0
    extra: dict = field(default_factory=dict)


def sim_state(order: SimOrder) -> tuple[str, tuple[int, str, str] | None, SimOrder]:
    """(shipment status, status detail, sim order) of a sim-backed order."""
    if order.status == "cancelled":
        return "Cancelled", None, order
    if order.status == "received":
        return "Processing", None, order
    if order.status == "picking":
        return "Processing", (100, "Picked", "Picking Completed"), order
    last = next((e for e in reversed(order.events) if e.code in CARRIER_DETAIL or e.code in EXCEPTIONS), None)
    if last is None or last.code in CARRIER_DETAIL:
        return "Completed", CARRIER_DETAIL[last.code if last else "shipped"], order
    subtype, text = EXCEPTION_SUBTYPE[last.code]
    return "Completed", (204, "DeliveryException", f"{subtype}: {text}"), order


class Renderer:
    """Bound to one emulator: reads its catalogue, fulfillment centers and sim."""

    def __init__(self, emulator) -> None:
        self.emu = emulator

    def fc(self, location_id: int) -> dict:
        center = self.emu.centers[location_id]
        return {"id": location_id, "name": center["name"]}

    def state(self, order: EmuOrder) -> tuple[str, tuple[int, str, str] | None, SimOrder | None]:
        if order.in_sim:
            return sim_state(self.emu.sim.get_order(order.reference))
        return order.status or "Processing", order.detail, None

    def recipient(self, order: EmuOrder) -> dict:
        recipient = dict(order.body["recipient"])
        recipient["full_name"] = recipient.get("name")
        return recipient

    def products(self, order: EmuOrder, committed: bool) -> list[dict]:
        rows = []
        for line in order.body["products"]:
            variant = self.emu.variant_by_sku(line["reference_id"])
            rows.append({"id": variant["product_id"], "reference_id": variant["sku"], "sku": variant["sku"],
                         "name": variant["name"],
                         "inventory_items": [{"id": variant["inventory"]["inventory_id"], "name": variant["name"],
                                              "quantity": line["quantity"],
                                              "quantity_committed": line["quantity"] if committed else 0,
                                              "is_dangerous_goods": False, "lot": None, "expiration_date": None,
                                              "serial_numbers": []}]})
        return rows

    def shipment(self, order: EmuOrder) -> dict:
        status, detail, sim = self.state(order)
        tracking = None
        if sim is not None and sim.tracking_number:
            tracking = {"carrier": sim.carrier, "carrier_service": "Ground", "tracking_number": sim.tracking_number,
                        "tracking_url": self.emu.sim.tracking_url.format(sim.tracking_number),
                        "shipping_date": iso(sim.shipped_at), "bol": None, "pro_number": None, "scac": None}
        delivered = next((e.at for e in sim.events if e.code == "delivered"), None) if sim else None
        last_carrier = next((e.at for e in reversed(sim.events) if e.code in CARRIER_CODES), None) if sim else None
        promise = order.created_at + self.emu.sim.pick_after + self.emu.sim.ship_after
        return {
            "id": order.shipment_id, "order_id": order.order_id, "reference_id": order.reference,
            "created_date": iso(order.created_at),
            "last_update_at": iso(sim.updated_at if sim else order.updated_at),
            "last_tracking_update_at": iso(last_carrier),
            "status": status,
            "status_details": [] if detail is None else [
                {"id": detail[0], "name": detail[1], "description": detail[2], "inventory_id": None,
                 "exception_fulfillment_center_id": None, "extra_information": None}],
            "location": self.fc(order.location_id),
            "recipient": self.recipient(order),
            "products": self.products(order, committed=status not in ("Exception", "OnHold", "Cancelled")),
            "tracking": tracking,
            "actual_fulfillment_date": iso(sim.shipped_at) if sim else None,
            "estimated_fulfillment_date": iso(promise),
            "estimated_fulfillment_date_status": "FulfilledOnTime" if sim and sim.shipped_at else "PendingOnTime",
            "delivery_date": iso(delivered),
            "is_tracking_uploaded": bool(order.extra.get("tracking_uploaded")),
            "require_signature": False, "ship_option": order.body.get("shipping_method"),
            "package_material_type": "Box", "gift_message": None, "insurance_value": None,
            "invoice_amount": None, "invoice_currency_code": None, "parent_cartons": [],
            "measurements": {"depth_in": 0, "length_in": 0, "total_weight_oz": 0, "width_in": 0},
        }

    def order(self, order: EmuOrder) -> dict:
        shipment = self.shipment(order)
        status = {"Processing": "Processing", "Completed": "Fulfilled", "Cancelled": "Cancelled"}.get(
            shipment["status"], "Exception")
        body = order.body
        return {
            "id": order.order_id, "created_date": iso(order.created_at), "purchase_date": body.get("purchase_date"),
            "reference_id": order.reference, "order_number": body.get("order_number") or order.reference,
            "status": status, "type": body.get("type"),
            "channel": {"id": order.channel_id, "name": self.emu.channel_name},
            "shipping_method": body.get("shipping_method"), "recipient": body["recipient"],
            "products": [{"id": p["id"], "reference_id": p["reference_id"], "sku": p["sku"],
                          "quantity": p["inventory_items"][0]["quantity"], "unit_price": None, "gtin": None,
                          "upc": None, "external_line_id": None, "quantity_unit_of_measure_code": None}
                         for p in shipment["products"]],
            "tags": body.get("tags") or [], "shipments": [shipment], "gift_message": body.get("gift_message"),
            "financials": body.get("financials"), "shipping_terms": body.get("shipping_terms"),
            "retailer_program_data": body.get("retailer_program_data"),
        }

    def timeline(self, order: EmuOrder) -> list[dict]:
        if not order.in_sim:
            return []
        sim = self.emu.sim.get_order(order.reference)
        entries = []
        for event in sim.events:
            if event.code in EXCEPTIONS:
                subtype, text = EXCEPTION_SUBTYPE[event.code]
                entries.append({"log_type_id": 204, "log_type_name": "DeliveryException", "log_type_text": text,
                                "timestamp": iso(event.at),
                                "metadata": {"exception": subtype, "location": event.location}})
            elif event.code in TIMELINE:
                log_id, name, text = TIMELINE[event.code]
                entries.append({"log_type_id": log_id, "log_type_name": name, "log_type_text": text,
                                "timestamp": iso(event.at), "metadata": {"location": event.location}})
        return entries

    def tracking_payload(self, order: EmuOrder, code: str, at: float, location: str) -> dict:
        """``order.shipment.tracking.updated`` body (compact, as ShipBob's tracking webhooks)."""
        sim = self.emu.sim.get_order(order.reference)
        if code in EXCEPTIONS:
            (subtype, text), name = EXCEPTION_SUBTYPE[code], "DeliveryException"
        else:
            subtype, (_, name, text) = None, CARRIER_DETAIL[code]
        return {"event_time": iso(at), "order_id": order.order_id, "shipment_id": order.shipment_id,
                "reference_id": order.reference, "status": name, "status_detail": subtype, "description": text,
                "location": location or None,
                "tracking": {"carrier": sim.carrier, "carrier_service": "Ground",
                             "tracking_number": sim.tracking_number,
                             "tracking_url": self.emu.sim.tracking_url.format(sim.tracking_number)}}

    def levels(self, variant: dict, location_id: int | None = None) -> dict:
        sku, rows = variant["sku"], []
        for fc_id, center in sorted(self.emu.centers.items()):
            if location_id is not None and fc_id != location_id:
                continue
            stock = self.emu.sim.stock.get((str(fc_id), sku))
            if stock is None:
                continue
            rows.append({"location_id": fc_id, "name": center["name"], "on_hand_quantity": stock.on_hand,
                         "committed_quantity": stock.reserved, "fulfillable_quantity": stock.available,
                         "awaiting_quantity": stock.inbound, "internal_transfer_quantity": 0})
        return {"inventory_id": variant["inventory"]["inventory_id"], "sku": sku, "name": variant["name"],
                "locations": rows}

    def inventory(self, variant: dict) -> dict:
        return {"inventory_id": variant["inventory"]["inventory_id"], "sku": variant["sku"], "name": variant["name"],
                "barcode": variant.get("barcode"), "is_case": False, "is_lot": False, "user_id": 1,
                "dimensions": {**(variant.get("dimension") or {"height": 0, "length": 0, "width": 0}),
                               "unit": "in", "is_locked": False, "validated": False},
                "weight": {"unit": "oz", "value": variant.get("weight") or 0},
                "variant": {"is_active": True, "is_bundle": False, "is_digital": False,
                            "hazmat": {"is_hazmat": False, "validated": False}}}

    def wro(self, wro: dict) -> dict:
        inbound = self.emu.sim.inbounds[wro["sim_reference"]]
        done = inbound.status == "received"
        status = "Cancelled" if wro.get("cancelled") else ("Completed" if done else "Awaiting")
        return {
            "id": wro["id"], "purchase_order_number": wro["purchase_order_number"], "status": status,
            "expected_arrival_date": wro["expected_arrival_date"], "insert_date": wro["insert_date"],
            "last_updated_date": wro.get("updated") or wro["insert_date"],
            "box_packaging_type": wro["box_packaging_type"], "package_type": wro["package_type"],
            "box_labels_uri": f"/receiving/{wro['id']}/labels", "external_sync_timestamp": None,
            "fulfillment_center": self.fc_detail(wro["fulfillment_center_id"]),
            "inventory_quantities": [{"inventory_id": self.emu.variant_by_sku(sku)["inventory"]["inventory_id"],
                                      "sku": sku, "expected_quantity": qty, "received_quantity": qty if done else 0,
                                      "stowed_quantity": qty if done else 0} for sku, qty in inbound.lines],
            "status_history": [{"id": 1, "status": "Awaiting", "timestamp": wro["insert_date"]}]
            + ([{"id": 2, "status": "Completed", "timestamp": wro.get("updated")}] if done else []),
        }

    def return_view(self, ret: dict) -> dict:
        """The return order (``GET /return/{id}``): ``status`` AwaitingArrival -> Processing ->
        Completed (or Cancelled; the ReturnStatus enum also has Arrived), and per inventory item the
        ``action_taken`` entries (``action``, ``action_reason``, ``image_url``,
        ``quantity_processed``) once the warehouse has processed it."""
        rma = self.emu.sim.returns[ret["_sim_reference"]]
        status = self.emu.return_status_override.get(ret["id"], RETURN_STATUS[rma.status])
        taken: dict[str, list] = {}
        for sku, units, grade in rma.graded:
            taken.setdefault(sku, []).append({"action": RETURN_ACTIONS[grade], "action_reason": None,
                                              "image_url": None, "quantity_processed": units})
        inventory = [{**item, "action_taken": taken.get(self.emu.variant_by_inventory(item["id"])["sku"], [])}
                     for item in ret["inventory"]]
        return {**{k: v for k, v in ret.items() if not k.startswith("_")}, "status": status,
                "inventory": inventory, "completed_date": iso(rma.inspected_at)}

    def fc_detail(self, fc_id: int) -> dict:
        c = self.emu.centers[fc_id]
        return {"id": fc_id, "name": c["name"], "address1": c.get("address1"), "address2": None,
                "city": c.get("city"), "state": c.get("state"), "country": alpha3(c["country"]),
                "zip_code": c.get("zip_code"), "timezone": c.get("timezone"), "email": None, "phone_number": None}


# ISO 3166-3 withdrawn codes that CLDR still aliases to a current country (DDR -> DE …).
WITHDRAWN_ALPHA3 = {"BUR", "DDR", "FXX", "TMP", "YMD", "ZAR"}


@cache
def alpha3(country: str) -> str:
    """ShipBob names a fulfillment center's country by ISO alpha-3 (``"USA"`` in the example of
    https://developer.shipbob.com/api/receiving/get-fulfillment-centers); the sim keeps alpha-2.
    A center configured with anything else (a test's odd country) is shown as configured."""
    if len(country) != 2:
        return country
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and alias not in WITHDRAWN_ALPHA3 and targets == [country]:
            return alias
    raise ValueError(f"no ISO alpha-3 code for {country!r}")
