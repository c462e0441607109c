"""Goodcang actions around stock: warehouses and shipping methods (``base_data``), products,
inventory and its change log, inbound orders (GRN / 入库单) and returns (退货单).

Shapes follow ``open.goodcang.com/docs_api/<module>/<action>``. Inventory quantities are answered
as strings, as Goodcang does (``"sellable": "149"``). ``get_inventory_log`` lists on-hand moves in
the order they happened (oldest first — the documentation does not say; this emulator assumes it);
its request dates are Beijing dates and one query spans at most 31 days. GRN and return status
codes are assumptions where noted.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from .goodcang_protocol import as_int, bj, bj_date, bj_midnight, failure, ok, parse_bj_date, require
from .sim import SimError

if TYPE_CHECKING:
    from .goodcang import GoodcangEmulator

SKU_RE = re.compile(r"^[A-Za-z0-9_.+\-]{1,24}$")
PRODUCT_REQUIRED = ("product_sku", "product_name_cn", "product_name_en", "product_weight", "product_length",
                    "product_width", "product_height", "contain_battery", "type_of_goods", "cat_id_level2",
                    "product_declared_name_cn", "product_material", "branded", "product_link", "export_country",
                    "import_country")
# application_code of the inventory log: number -> (code, Goodcang's label)
LOG_APPLICATIONS = {1: ("TransferOut", "调出下架"), 2: ("TransferIn", "调入上架"), 3: ("Stocktaking", "盘点"),
                    4: ("OrderCheckout", "订单签出"), 5: ("Adjustment", "库存调整"), 6: ("ReturnPutaway", "售后上架"),
                    7: ("Putaway", "入库上架"), 8: ("VasCompleted", "增值完成")}
GRN_STATUS = {"draft": "0", "submitted": "1", "received": "5"}  # assumed codes


# -- base data ---------------------------------------------------------------------------------

def get_warehouse(emu: GoodcangEmulator, body: dict) -> dict:
    return ok([{"warehouse_code": code, "warehouse_name": emu.warehouse_name(code), "country_code": country}
               for code, country in emu.sim.warehouses.items()])


def get_shipping_method(emu: GoodcangEmulator, body: dict) -> dict:
    warehouse = body.get("warehouse_code") or body.get("warehouseCode")
    codes = [warehouse] if warehouse else list(emu.sim.warehouses)
    if warehouse and warehouse not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=warehouse)
    return ok([{"code": method, "name": method, "name_en": method, "warehouse_code": code, "type": 0}
               for code in codes for method in emu.shipping_methods(code)])


# -- products ----------------------------------------------------------------------------------

def add_product(emu: GoodcangEmulator, body: dict) -> dict:
    _check_product(body)
    sku = body["product_sku"]
    if sku in emu.sim.skus or sku in emu.products:
        raise failure("dup_product", value=sku)
    return _save_product(emu, body)


def edit_product(emu: GoodcangEmulator, body: dict) -> dict:
    require(body, "product_sku")
    sku = body["product_sku"]
    if sku not in emu.sim.skus and sku not in emu.products:
        raise failure("unknown_product", value=sku)
    if emu.products.get(sku, {"verify": 1})["verify"]:  # seeded products count as audited
        raise failure("product_verified", value=sku)
    _check_product({**emu.products[sku], **body})
    return _save_product(emu, {**emu.products[sku], **body})


def _check_product(body: dict) -> None:
    require(body, *PRODUCT_REQUIRED)
    if not SKU_RE.match(str(body["product_sku"])):
        raise failure("invalid", field="product_sku")
    for name, low, high in (("product_weight", 0.001, 9999.999), ("product_length", 0.01, 9999.99),
                            ("product_width", 0.01, 9999.99), ("product_height", 0.01, 9999.99)):
        try:
            value = float(body[name])
        except (TypeError, ValueError):
            raise failure("invalid", field=name) from None
        if not low <= value <= high:
            raise failure("invalid", field=name)
    if re.search(r"[\u4e00-\u9fff]", str(body["product_name_en"])):
        raise failure("invalid", field="product_name_en")
    for name in ("export_country", "import_country"):
        rows = body[name]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise failure("invalid", field=name)
        for row in rows:
            require(row, "country_code", "declared_value")
            try:
                value = float(row["declared_value"])
            except (TypeError, ValueError):
                raise failure("invalid", field=f"{name}.declared_value") from None
            if not 0.01 <= value <= 9999.99:
                raise failure("invalid", field=f"{name}.declared_value")
    if any(r["country_code"] != "CN" for r in body["export_country"]):
        raise failure("invalid", field="export_country.country_code")


def _save_product(emu: GoodcangEmulator, body: dict) -> dict:
    sku = body["product_sku"]
    emu.products[sku] = dict(body, verify=as_int(body, "verify", default=0))
    emu.sim.add_sku(sku, title=body["product_name_en"], weight_kg=float(body["product_weight"]))
    return {"ask": "Success", "message": "Success", "product_sku": sku,
            "product_barcode": f"{emu.customer_code}-{sku}"}


# -- inventory ---------------------------------------------------------------------------------

def get_product_inventory(emu: GoodcangEmulator, body: dict) -> dict:
    page = as_int(body, "page", minimum=1)
    size = as_int(body, "pageSize", minimum=1)
    if size > 200:
        raise failure("invalid", field="pageSize")
    skus = set(_list(body, "product_sku_arr", 200)) | ({body["product_sku"]} if body.get("product_sku") else set())
    warehouses = set(_list(body, "warehouse_code_arr", 20))
    if body.get("warehouse_code"):
        warehouses.add(body["warehouse_code"])
    for code in warehouses:
        if code not in emu.sim.warehouses:
            raise failure("unknown_warehouse", value=code)
    rows = [_stock_row(emu, wh, sku) for (wh, sku) in sorted(emu.sim.stock, key=lambda p: (p[1], p[0]))
            if (not skus or sku in skus) and (not warehouses or wh in warehouses)]
    return ok(rows[(page - 1) * size: page * size], count=str(len(rows)))


def _stock_row(emu: GoodcangEmulator, warehouse: str, sku: str) -> dict:
    stock = emu.sim.stock[(warehouse, sku)]
    shipped = sum(q for o in emu.sim.orders.values() if o.warehouse == warehouse and o.shipped_at
                  for s, q in o.lines if s == sku)
    return {"product_barcode": f"{emu.customer_code}-{sku}", "product_sku": sku, "warehouse_code": warehouse,
            "warehouse_desc": emu.warehouse_name(warehouse), "onway": str(stock.inbound), "pending": "0",
            "sellable": str(stock.available), "unsellable": "0", "reserved": str(stock.reserved),
            "shipped": str(shipped), "sold_shared": "0", "tune_out": 0, "tune_in": 0, "stocking": "0",
            "pi_no_stock": "0", "pi_freeze": "0", "product_sales_value": "0.00"}


def get_inventory_log(emu: GoodcangEmulator, body: dict) -> dict:
    require(body, "create_date_from", "create_date_end")
    page = as_int(body, "page", minimum=1)
    size = as_int(body, "pageSize", minimum=1)
    if size > 200:
        raise failure("invalid", field="pageSize")
    start = parse_bj_date(body["create_date_from"], "create_date_from")
    end = parse_bj_date(body["create_date_end"], "create_date_end")
    if end < start:
        raise failure("invalid", field="create_date_end")
    if end - start > timedelta(days=30):
        raise failure("bad_range", field="create_date_end")
    if body.get("warehouse_code") and body["warehouse_code"] not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=body["warehouse_code"])
    skus, refs = set(_list(body, "product_sku_list", 200)), set(_list(body, "reference_no_list", 200))
    application = as_int(body, "application_code", default=0)
    rows = [e for e in emu.inventory_log if start <= bj_date(e["at"]) <= end
            and (not body.get("warehouse_code") or e["warehouse_code"] == body["warehouse_code"])
            and (not skus or e["product_sku"] in skus) and (not refs or e["reference_no"] in refs)
            and (not application or e["application"] == application)]
    data = [{k: v for k, v in e.items() if k not in ("at", "application")} | {"ibl_add_time": bj(e["at"])}
            for e in rows[(page - 1) * size: page * size]]
    return ok(data, count=len(rows))


def log_entry(emu: GoodcangEmulator, pair: tuple[str, str], delta: int) -> dict:
    """An inventory-log row for an on-hand move the sim just made (called under sim.lock)."""
    warehouse, sku = pair
    application, reference = 5, ""
    if delta < 0:
        for ref, order in emu.sim.orders.items():
            if (order.warehouse == warehouse and order.shipped_at == emu.sim.now and ref in emu.orders
                    and any(s == sku for s, _ in order.lines)):
                application, reference = 4, emu.orders[ref]["order_code"]
                break
    else:
        for ref, inbound in emu.sim.inbounds.items():
            if (inbound.warehouse == warehouse and inbound.status == "created" and ref in emu.inbounds
                    and any(s == sku for s, _ in inbound.lines)):
                application, reference = 7, emu.inbounds[ref]["receiving_code"]
                break
    code, label = LOG_APPLICATIONS[application]
    return {"at": emu.sim.now, "application": application, "reference_no": reference, "ref_no": reference,
            "application_code": code, "application_code_text": label,
            "product_barcode": f"{emu.customer_code}-{sku}", "product_sku": sku, "warehouse_code": warehouse,
            "warehouse_name": emu.warehouse_name(warehouse), "inventory_change_type": 1 if delta > 0 else 2,
            "inventory_change_type_text": "新增" if delta > 0 else "减少", "ibl_change_quantity": abs(delta),
            "remark": ""}


def _list(body: dict, name: str, limit: int) -> list:
    value = body.get(name) or []
    if not isinstance(value, list) or len(value) > limit:
        raise failure("invalid", field=name)
    return value


# -- inbound (GRN) -----------------------------------------------------------------------------

def create_grn(emu: GoodcangEmulator, body: dict) -> dict:
    """Self-shipped inbound orders (``transit_type`` 0) only; transit and FBA types need data
    (customs, pickup addresses) this emulator has no use for."""
    require(body, "transit_type", "receiving_shipping_type", "warehouse_code", "items")
    if as_int(body, "transit_type") != 0:
        raise failure("invalid", field="transit_type")
    if as_int(body, "receiving_shipping_type") not in range(6):
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
        require(box, "box_details")
        for detail in box["box_details"]:
            require(detail, "product_sku", "quantity")
            if detail["product_sku"] not in emu.sim.skus:
                raise failure("unknown_sku", value=detail["product_sku"])
            lines.append((detail["product_sku"], as_int(detail, "quantity", minimum=1)))
    code = emu.next_code("RV")
    key = reference or code
    emu.inbounds[key] = {"receiving_code": code, "reference_no": reference, "warehouse_code": warehouse,
                         "eta_date": body["eta_date"], "verify": verify, "created": emu.sim.now,
                         "tracking_number": body.get("tracking_number") or "", "request": body}
    try:
        emu.sim.create_inbound(key, warehouse, lines, bj_midnight(eta))
    except SimError as exc:
        del emu.inbounds[key]
        raise failure("dup_inbound", value=str(exc)) from None
    return ok({"receiving_code": code})


def get_grn_list(emu: GoodcangEmulator, body: dict) -> dict:
    page = as_int(body, "page", minimum=1)
    size = as_int(body, "pageSize", minimum=1)
    rows = []
    for key, meta in emu.inbounds.items():
        if body.get("reference_no") and meta["reference_no"] != body["reference_no"]:
            continue
        if body.get("receiving_code") and meta["receiving_code"] != body["receiving_code"]:
            continue
        state = "received" if emu.sim.inbounds[key].status == "received" else (
            "submitted" if meta["verify"] else "draft")
        rows.append({"receiving_code": meta["receiving_code"], "reference_no": meta["reference_no"],
                     "warehouse_code": meta["warehouse_code"], "receiving_status": GRN_STATUS[state],
                     "eta_date": meta["eta_date"], "tracking_number": meta["tracking_number"],
                     "create_time": bj(meta["created"])})
    return ok(rows[(page - 1) * size: page * size], count=len(rows))


# -- returns -----------------------------------------------------------------------------------

def create_return(emu: GoodcangEmulator, body: dict) -> dict:
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
        require(row, "product_sku", "num")
        if row["product_sku"] not in emu.sim.skus:
            raise failure("unknown_sku", value=row["product_sku"])
        lines.append((row["product_sku"], as_int(row, "num", minimum=1)))
    code = emu.next_code("R")
    key = ref_no or code
    emu.sim.create_return(key, reference_key, lines)
    emu.returns[key] = {"asro_code": code, "reference_no": ref_no, "order_code": body["order_code"],
                        "warehouse_code": body["warehouse_code"], "created": emu.sim.now,
                        "asro_status": "1" if str(body.get("is_verify", "0")) == "1" else "0",
                        "asro_reason": body.get("ro_desc") or "", "lines": lines}
    return ok({"asro_code": code})


def search_return(emu: GoodcangEmulator, body: dict) -> dict:
    if not body.get("reference_no") and not body.get("asroCodes"):
        raise failure("required", field="reference_no")
    rows = [_return_row(emu, meta) for meta in emu.returns.values()
            if (not body.get("reference_no") or meta["reference_no"] == body["reference_no"])
            and (not body.get("asroCodes") or meta["asro_code"] == body["asroCodes"])]
    return ok(rows)


def _return_row(emu: GoodcangEmulator, meta: dict) -> dict:
    return {"asro_code": meta["asro_code"], "order_code": meta["order_code"], "reference_no": meta["reference_no"],
            "asro_status": meta["asro_status"], "cass_type": "1", "asro_add_time": bj(meta["created"]),
            "asro_audit_time": bj(meta["created"]) if meta["asro_status"] == "1" else bj(None),
            "asro_putaway_time": bj(None), "warehouse_code": meta["warehouse_code"], "sm_type": "0",
            "service_type": 1, "is_transit": 2, "tracking_no": "", "asro_reason": meta["asro_reason"],
            "product_detail": [{"product_barcode": f"{emu.customer_code}-{sku}", "product_sku": sku,
                                "sellable_qty": 0, "unsellable_qty": 0, "destruction_qty": 0, "return_auth": 1}
                               for sku, _ in meta["lines"]]}


ACTIONS = {
    "base_data/get_warehouse": get_warehouse,
    "base_data/get_shipping_method": get_shipping_method,
    "product/add_product": add_product,
    "product/edit_product": edit_product,
    "inventory/get_product_inventory": get_product_inventory,
    "inventory/get_inventory_log": get_inventory_log,
    "inbound_order/create_grn": create_grn,
    "inbound_order/get_grn_list": get_grn_list,
    "return_order/create": create_return,
    "return_order/search": search_return,
}
