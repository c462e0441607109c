"""Goodcang outbound-order actions: ``order/create_order``, ``get_order_by_ref_code``,
``get_order_by_code``, ``cancel_order`` and ``query_tracking_status``.

Shapes: ``sdk:`` = ``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``.
The sim's ``received`` and ``picking`` both read as ``W`` (待发货): Goodcang's order status has
no picking stage; a delivered or carrier-exception parcel stays ``D`` (已发货) and its fate
shows in the tracking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .goodcang_protocol import allow, as_int, bj, failure, ok, require, utc
from .sim import SimError

if TYPE_CHECKING:
    from .goodcang_state import GoodcangAccount

CREATE_ORDER_KEYS = frozenset((  # sdk:warehouse/CreateOrderPayload.java
    "reference_no", "platform", "shipping_method", "warehouse_code", "country_code", "province", "city", "company",
    "address1", "address2", "address3", "zipcode", "doorplate", "name", "last_name", "cell_phone", "phone", "email",
    "order_desc", "customer_package_requirement", "verify", "is_shipping_method_not_allow_update", "is_signature",
    "is_insurance", "insurance_value", "fba_shipment_id", "fba_shipment_id_create_time", "property_label",
    "is_change_label", "age_detection", "items", "LiftGate", "payment_time", "attachment_ids",
    "estimated_arrival_date", "estimated_arrival_time", "sender_info", "vat_change_info", "is_euro_label", "vas",
    "business_type", "is_warehouse_packing", "carton_info", "truck_info"))
ORDER_ITEM_KEYS = frozenset((  # sdk:warehouse/OrderItem.java
    "product_sku", "quantity", "transaction_id", "item_id", "fba_product_code", "euro_terms_code",
    "label_replacement_qty", "product_declared_value", "hs_code"))
REQUIRED = ("shipping_method", "warehouse_code", "country_code", "province", "city", "zipcode", "name",
            "items")  # no public source: assumed (the SDK marks no field required)
LIMITS = {"reference_no": 50, "province": 20, "city": 32, "address1": 50, "address2": 50, "zipcode": 20,
          "name": 48, "last_name": 48, "phone": 20, "email": 100, "company": 50,
          "order_desc": 500}  # no public source: assumed lengths
SIM_ERRORS = {"duplicate_reference": "dup_order", "unknown_sku": "unknown_sku",
              "unknown_warehouse": "unknown_warehouse", "insufficient_stock": "insufficient_stock"}
STATUS = {  # sim status -> order_status
    "received": "W",  # sdk:warehouse/OrderListPayload.java "W:待发货"
    "picking": "W",  # sdk:warehouse/OrderListPayload.java "W:待发货"
    "shipped": "D",  # sdk:warehouse/OrderListPayload.java "D:已发货"
    "delivered": "D",  # sdk:warehouse/OrderListPayload.java "D:已发货"
    "exception": "D",  # sdk:warehouse/OrderListPayload.java "D:已发货" (a carrier exception after shipping)
    "cancelled": "X",  # sdk:warehouse/OrderListPayload.java "X:废弃"
}
UNRELEASED = "C"  # sdk:warehouse/DraftOrderListPayload.java "C:待发货审核" (created with verify 0)
CANCEL_DONE = 2  # sdk:warehouse/CancelOrderResponse.java isSuccess(): cancel_status == 2
# sim carrier event -> (TrajectoryItem "code", "info", "code_info"): the codes and texts have no
# public source (sdk:warehouse/TrajectoryItem.java names the fields only): assumed.
TRACK = {
    "info_received": ("TMS_OC", "Shipment information received", "订单创建"),  # assumed
    "in_transit": ("TMS_IT", "Arrived at sort facility, in transit", "运输中"),  # assumed
    "out_for_delivery": ("TMS_OD", "Out for delivery", "派送中"),  # assumed
    "delivered": ("TMS_FD", "Delivered", "派送完毕"),  # assumed
    "customs_delay": ("TMS_EXCP", "Shipment on hold at customs clearance", "轨迹异常"),  # assumed
    "delivery_delay": ("TMS_EXCP", "Delivery delayed: carrier operational issue", "轨迹异常"),  # assumed
    "failed_attempt": ("TMS_DF", "Delivery attempted, recipient not available", "投递未遂"),  # assumed
    "address_problem": ("TMS_EXCP", "Incorrect or incomplete address, unable to deliver", "轨迹异常"),  # assumed
    "lost": ("TMS_EXCP", "Shipment lost in transit", "轨迹异常"),  # assumed
    "damaged": ("TMS_EXCP", "Shipment damaged in transit", "轨迹异常"),  # assumed
    "returned_to_sender": ("TMS_RT", "Returned to sender", "退回寄件人"),  # assumed
}


def create_order(emu: GoodcangAccount, body: dict) -> dict:
    allow(body, CREATE_ORDER_KEYS)
    require(body, *REQUIRED)
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
        allow(item, ORDER_ITEM_KEYS)
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
    return ok(order_code=code)  # sdk:warehouse/OrderCodeResponse.java: order_code at the top level


def order_view(emu: GoodcangAccount, reference: str) -> dict:
    """sdk:warehouse/Order.java (with OrderItem.java, OrderBoxInfo.java, OrderFeeDetails.java)."""
    meta, order = emu.orders[reference], emu.sim.orders[reference]
    status = STATUS[order.status]
    if status == "W" and not meta["verify"]:
        status = UNRELEASED
    status = emu.forced_status.get(reference, status)
    req = meta["request"]
    tracking = order.tracking_number or ""
    boxes = []
    if order.tracking_number:
        boxes = [{"box_no": "1-1", "box_mark": "", "fba_box_mark": "", "order_code": meta["order_code"],
                  "tracking_number": tracking, "product_barcode": f"{emu.customer_code}-{sku}", "ob_qty": qty,
                  "ob_add_time": bj(order.shipped_at), "ob_length": 30.0, "ob_width": 20.0, "ob_height": 10.0,
                  "ob_weight": 1.0} for sku, qty in order.lines]
    return {
        "order_code": meta["order_code"], "reference_no": meta["reference_no"], "platform": meta["platform"],
        "order_status": status, "shipping_method": meta["shipping_method"], "tracking_no": tracking,
        "warehouse_code": order.warehouse, "wp_code": f"{order.warehouse}-1", "order_weight": 1.0,
        "order_desc": meta["order_desc"], "date_create": bj(order.created_at),
        "date_release": bj(order.created_at) if meta["verify"] else bj(None),
        "date_shipping": bj(order.shipped_at), "date_modify": bj(order.updated_at), "abnormal_problem_reason": "",
        "consignee_country_code": req.get("country_code"), "consignee_state": req.get("province"),
        "consignee_city": req.get("city"), "consignee_address1": req.get("address1") or "",
        "consignee_address2": req.get("address2") or "", "consignee_address3": req.get("address3") or "",
        "consignee_zipcode": req.get("zipcode"), "consigne_zipcode": req.get("zipcode"),
        "consignee_doorplate": req.get("doorplate") or "", "consignee_company": req.get("company") or "",
        "consignee_name": req.get("name"), "consignee_last_name": req.get("last_name") or "",
        "consignee_phone": req.get("phone") or "", "consignee_email": req.get("email") or "", "LiftGate": 0,
        "age_detection": 0, "payment_time": bj(None), "currency_code": "USD",
        "items": [dict(i, transaction_id="", item_id="", fba_product_code="") for i in meta["items"]],
        "fee_details": {"totalFee": 0.0, "SHIPPING": 0.0, "OPF": 0.0, "FSC": 0.0, "DT": 0.0, "RSF": 0.0,
                        "OTF": 0.0, "currency_code": "USD"},
        "orderBoxInfo": boxes,
    }


def get_order_by_ref_code(emu: GoodcangAccount, body: dict) -> dict:
    allow(body, frozenset({"reference_no"}))  # sdk:warehouse/ReferenceNoPayload.java
    require(body, "reference_no")
    if body["reference_no"] not in emu.orders:
        raise failure("no_data")
    return ok(order_view(emu, body["reference_no"]))


def get_order_by_code(emu: GoodcangAccount, body: dict) -> dict:
    allow(body, frozenset({"order_code"}))  # sdk:warehouse/OrderCodePayload.java
    require(body, "order_code")
    reference = emu.order_codes.get(body["order_code"])
    if reference is None:
        raise failure("no_data")
    return ok(order_view(emu, reference))


def cancel_order(emu: GoodcangAccount, body: dict) -> dict:
    """Goodcang cancels (intercepts) an order not yet shipped; ``cancel_status`` 2 = done."""
    allow(body, frozenset({"order_code", "reason"}))  # sdk:warehouse/CancelOrderPayload.java
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
    return ok(order_code=code, cancel_status=CANCEL_DONE)  # sdk:warehouse/CancelOrderResponse.java


def query_tracking_status(emu: GoodcangAccount, body: dict) -> dict:
    """sdk:GoodCangClient.java queryTrackingStatus: ReferenceNoPayload in, one
    sdk:warehouse/TrackingStatusResponse.java out; items newest first (order: assumed)."""
    allow(body, frozenset({"reference_no"}))  # sdk:warehouse/ReferenceNoPayload.java
    require(body, "reference_no")
    reference = body["reference_no"]
    if reference not in emu.orders:
        raise failure("no_data")
    order, meta = emu.sim.orders[reference], emu.orders[reference]
    trajectory = []
    if order.tracking_number:
        items = []
        for event in reversed([e for e in order.events if e.code in TRACK]):
            code, info, code_info = TRACK[event.code]
            # sdk:warehouse/TrajectoryItem.java
            items.append({"utc_time": utc(event.at), "date_time": bj(event.at), "info": info,
                          "location": event.location, "code": code, "code_info": code_info})
        # sdk:warehouse/TrajectoryInformation.java
        trajectory.append({"tracking_number": order.tracking_number, "item": items})
    return ok({"order_code": meta["order_code"], "code": meta["shipping_method"],
               "trajectory_information": trajectory})


ACTIONS = {  # paths: sdk:GoodCangClient.java
    "order/create_order": create_order,
    "order/get_order_by_ref_code": get_order_by_ref_code,
    "order/get_order_by_code": get_order_by_code,
    "order/cancel_order": cancel_order,
    "order/query_tracking_status": query_tracking_status,
}
