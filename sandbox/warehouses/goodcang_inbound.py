"""Goodcang inbound orders (GRN / 入库单: ``inbound_order/create_grn``, ``get_grn_list``) and
customer returns (退货单: ``return_order/create``, ``return_order/search``).

Shapes: ``sdk:`` = ``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``.
``get_grn_list`` filters by receiving codes and create/modify dates only (no reference_no) and
lists newest first (order: no public source, assumed). Status codes have no public source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .goodcang_protocol import (
    allow,
    as_int,
    bj,
    bj_midnight,
    failure,
    ok,
    ok_page,
    page_args,
    parse_bj_date,
    require,
)

if TYPE_CHECKING:
    from .goodcang_state import GoodcangAccount

CREATE_GRN_KEYS = frozenset((  # sdk:warehouse/CreateGrnPayload.java
    "transit_type", "reference_no", "receiving_shipping_type", "tracking_number", "warehouse_code", "eta_date",
    "verify", "receiving_desc", "shiper_address", "import_company", "items", "transit_warehouse_code", "sm_code",
    "customs_type", "collecting_service", "collecting_address", "customers_send_info", "collecting_time",
    "car_model_code", "weight", "volume", "clearance_service", "export_company", "wp_code", "is_delay",
    "is_rollover"))
BOX_KEYS = frozenset(("reference_box_no", "box_no", "box_details"))  # sdk:warehouse/BoxItem.java
BOX_DETAIL_KEYS = frozenset((  # sdk:warehouse/BoxDetail.java
    "product_sku", "quantity", "fba_product_code", "data_code", "serial_number"))
GRN_LIST_KEYS = frozenset((  # sdk:warehouse/GrnListPayload.java (extends sdk:Pagination.java)
    "page", "pageSize", "receiving_code_arr", "create_date_from", "create_date_to", "modify_date_from",
    "modify_date_to", "is_rollover"))
GRN_MAX_PAGE = 50  # no public source: assumed maximum pageSize of get_grn_list
GRN_STATUS = {  # sdk:warehouse/GrnInfo.java receiving_status (Integer)
    "draft": 0,  # no public source: assumed
    "submitted": 1,  # no public source: assumed
    "received": 5,  # no public source: assumed
}
RETURN_KEYS = frozenset((  # sdk:warehouse/ReturnOrderCreatePayload.java
    "order_code", "ref_no", "is_verify", "warehouse_code", "logistics", "courier", "tracking_no", "photo_no",
    "ro_desc", "ro_note", "is_transit", "collect_warehouse_code", "service_type", "return_identification",
    "product_list", "delivery_address"))
RETURN_PRODUCT_KEYS = frozenset((  # sdk:warehouse/ReturnProduct.java
    "num", "return_replacement_sku", "photo_list", "product_sku"))
RETURN_SEARCH_KEYS = frozenset(("asroCodes", "reference_no"))  # sdk:warehouse/ReturnOrderSearchPayload.java
RETURN_STATUS = {  # sdk:warehouse/ReturnOrder.java asro_status; codes: Goodcang doc "RESTFUL V1退货单查询"
    "draft": 0,  # 草稿
    "submitted": 1,  # 已提交
    "received": 4,  # 收货完成
    "processed": 5,  # 处理完成
    "discarded": 6,  # 废弃
}
# sim grade -> sdk:warehouse/ReturnProductDetail.java quantity field
GRADE_FIELDS = {"sellable": "sellable_qty", "unsellable": "unsellable_qty"}
SHIPPING_TYPES = range(6)  # sdk:warehouse/CreateGrnPayload.java receiving_shipping_type (values: assumed)


# -- inbound (GRN) -----------------------------------------------------------------------------

def create_grn(emu: GoodcangAccount, body: dict) -> dict:
    """Self-shipped inbound orders (``transit_type`` 0) only; transit and FBA types need data
    (customs, pickup addresses) this emulator has no use for. Answer: data.receiving_code
    (sdk:warehouse/ReceivingCodePayload.java)."""
    allow(body, CREATE_GRN_KEYS)
    require(body, "transit_type", "receiving_shipping_type", "warehouse_code", "items")
    if as_int(body, "transit_type") != 0:
        raise failure("invalid", field="transit_type")
    if as_int(body, "receiving_shipping_type") not in SHIPPING_TYPES:
        raise failure("invalid", field="receiving_shipping_type")
    require(body, "eta_date")
    eta = parse_bj_date(body["eta_date"], "eta_date")
    verify = as_int(body, "verify", default=0)
    if verify:
        require(body, "tracking_number")
    warehouse = body["warehouse_code"]
    if warehouse not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=warehouse)
    reference = body.get("reference_no") or ""
    if reference and reference in emu.inbounds:
        raise failure("dup_inbound", value=reference)
    if not isinstance(body["items"], list):
        raise failure("invalid", field="items")
    lines = []
    for number, box in enumerate(body["items"], start=1):
        if not isinstance(box, dict) or as_int(box, "box_no") != number:
            raise failure("invalid", field="box_no")
        allow(box, BOX_KEYS)
        require(box, "box_details")
        for detail in box["box_details"]:
            allow(detail, BOX_DETAIL_KEYS)
            require(detail, "product_sku", "quantity")
            if detail["product_sku"] not in emu.sim.skus:
                raise failure("unknown_sku", value=detail["product_sku"])
            lines.append((detail["product_sku"], as_int(detail, "quantity", minimum=1)))
    code = emu.record_grn(reference, warehouse, lines, bj_midnight(eta), verify=verify,
                          tracking_number=body.get("tracking_number") or "", request=body)
    return ok({"receiving_code": code})


def get_grn_list(emu: GoodcangAccount, body: dict) -> dict:
    """Paged (sdk:ResponsePage.java) rows of sdk:warehouse/GrnInfo.java, newest first."""
    allow(body, GRN_LIST_KEYS)
    page, size = page_args(body, GRN_MAX_PAGE)
    codes = body.get("receiving_code_arr") or []
    if not isinstance(codes, list):
        raise failure("invalid", field="receiving_code_arr")
    low = parse_bj_date(body["create_date_from"], "create_date_from") if body.get("create_date_from") else None
    high = parse_bj_date(body["create_date_to"], "create_date_to") if body.get("create_date_to") else None
    rows = []
    for key, meta in reversed(emu.inbounds.items()):
        created = parse_bj_date(bj(meta["created"]), "create_at")
        if (codes and meta["receiving_code"] not in codes) or (low and created < low) or (high and created > high):
            continue
        state = "received" if emu.sim.inbounds[key].status == "received" else (
            "submitted" if meta["verify"] else "draft")
        rows.append({"receiving_code": meta["receiving_code"], "reference_no": meta["reference_no"], "sm_code": "",
                     "receiving_status": GRN_STATUS[state], "transit_type": 0, "receiving_shipping_type": 2,
                     "create_at": bj(meta["created"]), "update_at": bj(meta["created"]),
                     "warehouse_code": meta["warehouse_code"], "transit_warehouse_code": "",
                     "overseas_box_total": 0, "overseas_sku_total": 0, "box_total_count": 1,
                     "sku_total_count": sum(q for _, q in meta["lines"]),
                     "tracking_number": meta["tracking_number"], "wp_code": f"{meta['warehouse_code']}-1",
                     "remark": "", "customs_docs_status": 0, "is_rollover": 0, "track_status": ""})
    return ok_page(rows, page, size)


# -- returns -----------------------------------------------------------------------------------

def create_return(emu: GoodcangAccount, body: dict) -> dict:
    """Answer: data.asro_code, data.tracking_no (sdk:warehouse/ReturnOrderResponse.java)."""
    allow(body, RETURN_KEYS)
    require(body, "order_code", "warehouse_code", "product_list")
    reference_key = emu.order_codes.get(body["order_code"])
    if reference_key is None:
        raise failure("no_data")
    if body["warehouse_code"] not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=body["warehouse_code"])
    ref_no = body.get("ref_no") or ""
    if ref_no and ref_no in emu.returns:
        raise failure("dup_return", value=ref_no)
    if not isinstance(body["product_list"], list):
        raise failure("invalid", field="product_list")
    lines = []
    for row in body["product_list"]:
        allow(row, RETURN_PRODUCT_KEYS)
        require(row, "product_sku", "num")
        if row["product_sku"] not in emu.sim.skus:
            raise failure("unknown_sku", value=row["product_sku"])
        lines.append((row["product_sku"], as_int(row, "num", minimum=1)))
    code = emu.next_code("R")
    key = ref_no or code
    emu.sim.create_return(key, reference_key, lines)
    if str(body.get("is_verify")) != "1":  # a draft is not announced to the warehouse: it never arrives
        emu.sim.returns[key].next_at = 0.0
    emu.returns[key] = {"asro_code": code, "reference_no": ref_no, "order_code": body["order_code"],
                        "warehouse_code": body["warehouse_code"], "created": emu.sim.now,
                        "asro_status": RETURN_STATUS["submitted" if str(body.get("is_verify")) == "1" else "draft"],
                        "asro_reason": body.get("ro_desc") or "", "lines": lines}
    return ok({"asro_code": code, "tracking_no": ""})


def search_return(emu: GoodcangAccount, body: dict) -> dict:
    """One unpaged list of sdk:warehouse/ReturnOrder.java (sdk:GoodCangClient.java returnOrderSearch)."""
    allow(body, RETURN_SEARCH_KEYS)
    if not body.get("reference_no") and not body.get("asroCodes"):
        raise failure("required", field="reference_no")
    rows = [_return_row(emu, key, meta) for key, meta in emu.returns.items()
            if (not body.get("reference_no") or meta["reference_no"] == body["reference_no"])
            and (not body.get("asroCodes") or meta["asro_code"] == body["asroCodes"])]
    return ok(rows)


def _return_row(emu: GoodcangAccount, key: str, meta: dict) -> dict:
    """sdk:warehouse/ReturnOrder.java. Units are counted by grade once the return is processed."""
    rma = emu.sim.returns[key]
    submitted = meta["asro_status"] == RETURN_STATUS["submitted"]
    status = {"received": RETURN_STATUS["received"], "inspected": RETURN_STATUS["processed"],
              "cancelled": RETURN_STATUS["discarded"]}.get(rma.status, meta["asro_status"])
    counts = {sku: dict.fromkeys(GRADE_FIELDS.values(), 0) for sku, _ in meta["lines"]}
    for sku, units, grade in rma.graded:
        counts[sku][GRADE_FIELDS[grade]] += units
    return {"asro_code": meta["asro_code"], "order_code": meta["order_code"], "reference_no": meta["reference_no"],
            "asro_status": emu.return_status_override.get(key, status), "cass_type": 1,
            "asro_add_time": bj(meta["created"]), "asro_audit_time": bj(meta["created"]) if submitted else bj(None),
            "asro_putaway_time": bj(rma.inspected_at), "warehouse_code": meta["warehouse_code"], "sm_type": 0,
            "service_type": 1, "is_transit": 2, "tracking_no": "", "asro_reason": meta["asro_reason"],
            # sdk:warehouse/ReturnProductDetail.java
            "product_detail": [{"product_barcode": f"{emu.customer_code}-{sku}", "product_sku": sku, **graded,
                                "destruction_qty": 0, "sellable_detail": [], "unsellable_detail": [],
                                "destruction_detail": [], "return_auth": 1}
                               for sku, graded in counts.items()]}


ACTIONS = {  # paths: sdk:GoodCangClient.java
    "inbound_order/create_grn": create_grn,
    "inbound_order/get_grn_list": get_grn_list,
    "return_order/create": create_return,
    "return_order/search": search_return,
}
