"""Goodcang outbound-order actions: ``order/create_order``, ``get_order_by_ref_code``,
``get_order_by_code``, ``cancel_order`` and the V2 ``batch_query_tracking_status``.

Shapes follow Goodcang's pages (``open.goodcang.com/docs_api/order/<action>``): order statuses
C/W/D/H/N/P/X, ``orderBoxInfo``, the tracking answer with ``utc_time`` and ``date_time`` (Beijing)
and the TMS_* codes. The sim's ``received`` and ``picking`` both read as ``W`` (待发货): Goodcang's
order status has no picking stage; a delivered or carrier-exception parcel stays ``D`` (已发货)
and its fate shows in the tracking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .goodcang_protocol import as_int, bj, failure, ok, ok_v2, require, utc
from .sim import SimError

if TYPE_CHECKING:
    from .goodcang import GoodcangEmulator

LIMITS = {"reference_no": 50, "province": 20, "city": 32, "address1": 50, "address2": 50, "zipcode": 20,
          "name": 48, "last_name": 48, "phone": 20, "email": 100, "company": 50, "order_desc": 500}
SIM_ERRORS = {"duplicate_reference": "dup_order", "unknown_sku": "unknown_sku",
              "unknown_warehouse": "unknown_warehouse", "insufficient_stock": "insufficient_stock"}
STATUS = {"received": "W", "picking": "W", "shipped": "D", "delivered": "D", "exception": "D", "cancelled": "X"}
# sim carrier event -> (TMS code, carrier text, Goodcang's structured text)
TRACK = {
    "info_received": ("TMS_OC", "Shipment information received", "订单创建"),
    "in_transit": ("TMS_IT", "Arrived at sort facility, in transit", "运输中"),
    "out_for_delivery": ("TMS_OD", "Out for delivery", "派送中"),
    "delivered": ("TMS_FD", "Delivered", "派送完毕"),
    "customs_delay": ("TMS_EXCP", "Shipment on hold at customs clearance", "轨迹异常"),
    "delivery_delay": ("TMS_EXCP", "Delivery delayed: carrier operational issue", "轨迹异常"),
    "failed_attempt": ("TMS_DF", "Delivery attempted, recipient not available", "投递未遂"),
    "address_problem": ("TMS_EXCP", "Incorrect or incomplete address, unable to deliver", "轨迹异常"),
    "lost": ("TMS_EXCP", "Shipment lost in transit", "轨迹异常"),
    "damaged": ("TMS_EXCP", "Shipment damaged in transit", "轨迹异常"),
    "returned_to_sender": ("TMS_RT", "Returned to sender", "退回寄放"),
}
CODE_TYPES = ("order_code", "reference_no", "tracking_number")


def create_order(emu: GoodcangEmulator, body: dict) -> dict:
    require(body, "shipping_method", "warehouse_code", "country_code", "province", "city", "zipcode", "name",
            "items")
    if not body.get("address1") and not body.get("address2"):
        raise failure("required", field="address1")
    for name, limit in LIMITS.items():
        if body.get(name) is not None and len(str(body[name])) > limit:
            raise failure("invalid", field=name)
    if len(str(body["country_code"])) != 2:
        raise failure("invalid", field="country_code")
    warehouse = body["warehouse_code"]
    if warehouse not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=warehouse)
    if body["shipping_method"] not in emu.shipping_methods(warehouse):
        raise failure("bad_shipping_method", value=body["shipping_method"])
    if not isinstance(body["items"], list):
        raise failure("invalid", field="items")
    lines = []
    for item in body["items"]:
        if not isinstance(item, dict):
            raise failure("invalid", field="items")
        require(item, "product_sku", "quantity")
        if item["product_sku"] not in emu.sim.skus:
            raise failure("unknown_sku", value=item["product_sku"])
        lines.append((item["product_sku"], as_int(item, "quantity", minimum=1)))
    if body.get("reference_no") and body["reference_no"] in emu.orders:
        raise failure("dup_order", value=body["reference_no"])
    code = emu.next_code("")
    reference = body.get("reference_no") or code
    address = {k: body.get(k) for k in ("name", "last_name", "company", "address1", "address2", "city",
                                         "province", "zipcode", "country_code", "phone", "email", "doorplate")}
    try:
        emu.sim.create_order(reference, warehouse, lines, address)
    except SimError as exc:
        name = SIM_ERRORS.get(exc.code)
        if name is None:
            raise failure("invalid", field="quantity") from None
        raise failure(name, value=str(exc)) from None
    emu.orders[reference] = {"order_code": code, "reference_no": body.get("reference_no") or "",
                             "platform": body.get("platform") or "OTHER", "shipping_method": body["shipping_method"],
                             "verify": as_int(body, "verify", default=0), "order_desc": body.get("order_desc") or "",
                             "items": [{"product_sku": s, "quantity": q} for s, q in lines], "request": body}
    emu.order_codes[code] = reference
    return ok({"order_code": code}, order_code=code)


def order_view(emu: GoodcangEmulator, reference: str) -> dict:
    meta, order = emu.orders[reference], emu.sim.orders[reference]
    status = STATUS[order.status]
    if status == "W" and not meta["verify"]:
        status = "C"  # created as a draft: 待发货审核
    req = meta["request"]
    tracking = order.tracking_number or ""
    boxes = []
    if order.tracking_number:
        boxes = [{"box_no": "1-1", "order_code": meta["order_code"], "tracking_number": tracking,
                  "product_barcode": f"{emu.customer_code}-{sku}", "ob_qty": qty, "ob_add_time": bj(order.shipped_at),
                  "ob_length": "30.00", "ob_width": "20.00", "ob_height": "10.00", "ob_weight": "1.00"}
                 for sku, qty in order.lines]
    return {
        "order_code": meta["order_code"], "reference_no": meta["reference_no"], "platform": meta["platform"],
        "order_status": status, "shipping_method": meta["shipping_method"], "tracking_no": tracking,
        "warehouse_code": order.warehouse, "wp_code": f"{order.warehouse}-1", "order_weight": "1.000",
        "order_desc": meta["order_desc"], "date_create": bj(order.created_at),
        "date_release": bj(order.created_at) if meta["verify"] else bj(None),
        "date_shipping": bj(order.shipped_at), "date_modify": bj(order.updated_at), "abnormal_problem_reason": "",
        "consignee_country_code": req.get("country_code"), "consignee_state": req.get("province"),
        "consignee_city": req.get("city"), "consignee_address1": req.get("address1") or "",
        "consignee_address2": req.get("address2") or "", "consignee_address3": "",
        "consigne_zipcode": req.get("zipcode"), "consignee_doorplate": req.get("doorplate") or "",
        "consignee_company": req.get("company") or "", "consignee_name": req.get("name"),
        "consignee_last_name": req.get("last_name") or "", "consignee_phone": req.get("phone") or "",
        "consignee_email": req.get("email") or "", "LiftGate": 0, "age_detection": 0,
        "payment_time": bj(None), "items": [dict(i, transaction_id="", item_id="", fba_product_code="")
                                             for i in meta["items"]],
        "fee_details": {"totalFee": 0, "SHIPPING": 0, "OPF": 0, "FSC": 0, "DT": 0, "RSF": 0, "OTF": 0,
                        "currency_code": "USD"},
        "orderBoxInfo": boxes, "sn_info_list": [],
    }


def get_order_by_ref_code(emu: GoodcangEmulator, body: dict) -> dict:
    require(body, "reference_no")
    if body["reference_no"] not in emu.orders:
        raise failure("no_data")
    return ok(order_view(emu, body["reference_no"]))


def get_order_by_code(emu: GoodcangEmulator, body: dict) -> dict:
    require(body, "order_code")
    reference = emu.order_codes.get(body["order_code"])
    if reference is None:
        raise failure("no_data")
    return ok(order_view(emu, reference))


def cancel_order(emu: GoodcangEmulator, body: dict) -> dict:
    """Goodcang cancels (intercepts) an order not yet shipped; ``cancel_status`` 2 = done."""
    require(body, "order_code")
    code = body["order_code"]
    reference = emu.order_codes.get(code)
    if reference is None:
        raise failure("no_data")
    order = emu.sim.orders[reference]
    if order.status == "cancelled":
        raise failure("discarded")
    if order.status not in ("received", "picking"):
        raise failure("not_cancellable", value=code)
    emu.sim.cancel_order(reference)
    return {"ask": "Success", "message": "Success", "order_code": code, "cancel_status": 2}


def batch_query_tracking_status(emu: GoodcangEmulator, body: dict) -> dict:
    require(body, "value_list", "code_type", v2=True)
    values, code_type = body["value_list"], body["code_type"]
    if not isinstance(values, list) or len(values) > 50:
        raise failure("invalid", field="value_list", v2=True)
    if code_type not in CODE_TYPES:
        raise failure("invalid", field="code_type", v2=True)
    data = []
    for value in values:
        reference = _find(emu, code_type, value)
        if reference is None:
            continue
        order, meta = emu.sim.orders[reference], emu.orders[reference]
        trajectory = []
        if order.tracking_number:
            events = [e for e in order.events if e.code in TRACK]
            items = []
            for event in reversed(events):  # newest first, as carrier trackers list them
                tms, info, code_info = TRACK[event.code]
                items.append({"utc_time": utc(event.at), "date_time": bj(event.at), "info": info,
                              "location": event.location, "code": tms, "code_info": code_info})
            trajectory.append({"tracking_number": order.tracking_number, "status_list": items})
        data.append({"order_code": meta["order_code"], "code": meta["shipping_method"],
                     "trajectory_information": trajectory})
    return ok_v2(data)


def _find(emu: GoodcangEmulator, code_type: str, value) -> str | None:
    if code_type == "order_code":
        return emu.order_codes.get(value)
    if code_type == "reference_no":
        return value if value in emu.orders else None
    for reference, order in emu.sim.orders.items():
        if order.tracking_number == value and reference in emu.orders:
            return reference
    return None


ACTIONS = {
    "order/create_order": create_order,
    "order/get_order_by_ref_code": get_order_by_ref_code,
    "order/get_order_by_code": get_order_by_code,
    "order/cancel_order": cancel_order,
    "order/batch_query_tracking_status": batch_query_tracking_status,
}
