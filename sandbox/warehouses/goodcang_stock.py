"""Goodcang actions around stock: warehouses and shipping methods (``base_data``), products,
inventory and its change log.

Shapes: ``sdk:`` = ``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``.
Inventory counts are JSON numbers (sdk:warehouse/ProductInventory.java types them Integer).
``get_inventory_log`` lists on-hand moves oldest first and one query spans at most 31 days
(both: no public source, assumed); its request dates are Beijing dates.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from .goodcang_protocol import allow, as_int, bj, bj_date, failure, ok, ok_page, page_args, parse_bj_date, require

if TYPE_CHECKING:
    from .goodcang_state import GoodcangAccount

SKU_RE = re.compile(r"^[A-Za-z0-9_.+\-]{1,24}$")  # no public source: assumed SKU format
PRODUCT_KEYS = frozenset((  # sdk:product/AddProductPayload.java (EditProductPayload.java adds clear_sku_mapping)
    "product_sku", "reference_no", "product_name_cn", "product_name_en", "product_weight", "product_length",
    "product_width", "product_height", "contain_battery", "type_of_goods", "cat_lang", "cat_id_level2", "verify",
    "product_declared_name_cn", "product_declared_name", "product_material", "product_function", "branded",
    "product_brand", "product_model", "unit", "product_link", "image_link", "export_country", "import_country",
    "certificate_url_list", "thirdparty_sku_mapping", "return_auth", "return_replacement_sku",
    "batch_management_enabled", "batch_info", "sku_wrapper_type", "sn_info", "battery_info", "remark"))
PRODUCT_REQUIRED = ("product_sku", "product_name_cn", "product_name_en", "product_weight", "product_length",
                    "product_width", "product_height", "contain_battery", "type_of_goods", "cat_id_level2",
                    "product_declared_name_cn", "product_material", "branded", "product_link", "export_country",
                    "import_country")  # no public source: assumed (the SDK marks no field required)
INVENTORY_KEYS = frozenset((  # sdk:warehouse/GetProductInventoryPayload.java (+ page sizes: page_args)
    "page", "pageSize", "page_size", "product_sku_arr", "product_sku", "warehouse_code", "warehouse_code_arr"))
LOG_KEYS = frozenset((  # sdk:warehouse/GetInventoryLogPayload.java (+ page sizes: page_args)
    "page", "pageSize", "page_size", "application_code", "warehouse_code", "product_sku_list", "reference_no_list",
    "create_date_from", "create_date_end"))
MAX_PAGE = 200  # no public source: assumed maximum page size of inventory and its log


# -- base data ---------------------------------------------------------------------------------

def get_warehouse(emu: GoodcangAccount, body: dict) -> dict:
    """sdk:GoodCangClient.java getWarehouse: no parameters; rows are sdk:base/Warehouse.java, each
    physical site (sdk:base/Wp.java) with its address (sdk:base/WpAddress.java)."""
    allow(body, frozenset())
    return ok([{"warehouse_code": code, "warehouse_name": emu.warehouse_name(code), "country_code": country,
                "wp_list": [{"name": f"{emu.warehouse_name(code)}-1", "code": f"{code}-1",
                             "address": _site_address(emu.sim.return_addresses[code])}]}
               for code, country in emu.sim.warehouses.items()])


def _site_address(address: dict) -> dict:
    return {"state": address.get("province") or "", "city": address["city"], "postcode": address["zip"],
            "contacter": address["name"], "phone": address.get("phone") or "",
            "street_address1": address["address1"], "street_address2": address.get("address2") or "",
            "street_number": ""}


def get_shipping_method(emu: GoodcangAccount, body: dict) -> dict:
    """sdk:base/WarehouseCodePayload.java (the key is ``warehouseCode``); rows are
    sdk:base/ShippingMethod.java."""
    allow(body, frozenset({"warehouseCode"}))
    warehouse = body.get("warehouseCode")
    codes = [warehouse] if warehouse else list(emu.sim.warehouses)
    if warehouse and warehouse not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=warehouse)
    return ok([{"code": method, "name": method, "name_en": method, "warehouse_code": code, "type": "0"}
               for code in codes for method in emu.shipping_methods(code)])


# -- products ----------------------------------------------------------------------------------

def add_product(emu: GoodcangAccount, body: dict) -> dict:
    allow(body, PRODUCT_KEYS)
    _check_product(body)
    sku = body["product_sku"]
    if sku in emu.sim.skus or sku in emu.products:
        raise failure("dup_product", value=sku)
    return _save_product(emu, body)


def edit_product(emu: GoodcangAccount, body: dict) -> dict:
    allow(body, PRODUCT_KEYS | {"clear_sku_mapping"})
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


def _save_product(emu: GoodcangAccount, body: dict) -> dict:
    sku = body["product_sku"]
    emu.products[sku] = dict(body, verify=as_int(body, "verify", default=0))
    emu.sim.add_sku(sku, title=body["product_name_en"], weight_kg=float(body["product_weight"]))
    # sdk:product/ProductResponse.java: product_sku, product_barcode at the top level
    return ok(product_sku=sku, product_barcode=f"{emu.customer_code}-{sku}")


# -- inventory ---------------------------------------------------------------------------------

def get_product_inventory(emu: GoodcangAccount, body: dict) -> dict:
    """Paged (sdk:ResponsePage.java) rows of sdk:warehouse/ProductInventory.java."""
    allow(body, INVENTORY_KEYS)
    page, size = page_args(body, MAX_PAGE, snake_too=True)
    skus = set(_list(body, "product_sku_arr", 200)) | ({body["product_sku"]} if body.get("product_sku") else set())
    warehouses = set(_list(body, "warehouse_code_arr", 20))
    if body.get("warehouse_code"):
        warehouses.add(body["warehouse_code"])
    for code in warehouses:
        if code not in emu.sim.warehouses:
            raise failure("unknown_warehouse", value=code)
    rows = [_stock_row(emu, wh, sku) for (wh, sku) in sorted(emu.sim.stock, key=lambda p: (p[1], p[0]))
            if (not skus or sku in skus) and (not warehouses or wh in warehouses)]
    return ok_page(rows, page, size)


def _stock_row(emu: GoodcangAccount, warehouse: str, sku: str) -> dict:
    """The sim's shelf as Goodcang counts it: sellable = on the shelf and not allocated, reserved =
    allocated to open orders (待出库), onway = on an open GRN. No damaged, frozen or short stock."""
    stock = emu.sim.stock[(warehouse, sku)]
    shipped = sum(q for o in emu.sim.orders.values() if o.warehouse == warehouse and o.shipped_at
                  for s, q in o.lines if s == sku)
    return {"product_barcode": f"{emu.customer_code}-{sku}", "product_sku": sku, "warehouse_code": warehouse,
            "warehouse_desc": emu.warehouse_name(warehouse), "onway": stock.inbound, "pending": 0,
            "sellable": stock.available, "unsellable": 0, "reserved": stock.reserved, "stocking": 0,
            "pi_no_stock": 0, "pi_freeze": 0, "shipped": shipped,
            "product_freeze_status": 0}  # 0 = not frozen: no public source, assumed


def get_inventory_log(emu: GoodcangAccount, body: dict) -> dict:
    """Paged (sdk:ResponsePage.java) rows of sdk:warehouse/InventoryLog.java."""
    allow(body, LOG_KEYS)
    require(body, "create_date_from", "create_date_end")
    page, size = page_args(body, MAX_PAGE, snake_too=True)
    start = parse_bj_date(body["create_date_from"], "create_date_from")
    end = parse_bj_date(body["create_date_end"], "create_date_end")
    if end < start:
        raise failure("invalid", field="create_date_end")
    if end - start > timedelta(days=30):
        raise failure("bad_range", field="create_date_end")
    if body.get("warehouse_code") and body["warehouse_code"] not in emu.sim.warehouses:
        raise failure("unknown_warehouse", value=body["warehouse_code"])
    skus, refs = set(_list(body, "product_sku_list", 200)), set(_list(body, "reference_no_list", 200))
    application = body.get("application_code") or ""
    rows = [{k: v for k, v in e.items() if k != "at"} | {"ibl_add_time": bj(e["at"])}
            for e in emu.inventory_log if start <= bj_date(e["at"]) <= end
            and (not body.get("warehouse_code") or e["warehouse_code"] == body["warehouse_code"])
            and (not skus or e["product_sku"] in skus) and (not refs or e["reference_no"] in refs)
            and (not application or e["application_code"] == application)]
    return ok_page(rows, page, size)


def _list(body: dict, name: str, limit: int) -> list:
    value = body.get(name) or []
    if not isinstance(value, list) or len(value) > limit:
        raise failure("invalid", field=name)
    return value


ACTIONS = {  # paths: sdk:GoodCangClient.java
    "base_data/get_warehouse": get_warehouse,
    "base_data/get_shipping_method": get_shipping_method,
    "product/add_product": add_product,
    "product/edit_product": edit_product,
    "inventory/get_product_inventory": get_product_inventory,
    "inventory/get_inventory_log": get_inventory_log,
}
