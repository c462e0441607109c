"""WINIT actions the emulator answers: WINIT request shapes in, WarehouseSim calls, WINIT shapes out.

Every handler takes the request's ``data`` and returns the answer's ``data``; refusals raise
:class:`WinitError`. Handlers run under the sim's lock, so they see one consistent warehouse.
Outbound handlers live in :mod:`winit_outbound`, stock and inbound in :mod:`winit_inventory`;
this module holds base data, returns and the shared lookups. Shapes cite EalenXie/sdk-all
``winit-sdk/src/main/java/io/github/ealenxie/winit/`` per handler.

Knobs for tests: ``split_zones`` (SKU -> stock zone; lines in different zones split the order),
``status_override`` (WINIT order number -> status code to report), ``return_status_override``
(our return reference -> return status code to report), ``frozen`` ((warehouse, SKU) ->
units frozen, reported as qtyFrozen and not available).
"""

from __future__ import annotations

import itertools

from sandbox.warehouses.sim import SimError, SimOrder, WarehouseSim
from sandbox.warehouses.winit_inventory import InventoryActions, page_params
from sandbox.warehouses.winit_outbound import OutboundActions
from sandbox.warehouses.winit_protocol import (
    E_DUPLICATE,
    E_NOT_FOUND,
    E_WAREHOUSE,
    GRADES,
    MESSAGES,
    RETURN_CODES,
    SIM_ERRORS,
    WinitError,
    as_int,
    bj_time,
    check_fields,
    invalid,
    require,
)

# queryReturnOderList filter -> the row field it selects on (customerOrderNo matching the row's
# sellerOrderNo: no public source, assumed).
RETURN_FILTERS = {"returnGoodsOrderNo": "returnGoodsOrderNo", "rmaNo": "rmaNo", "outboundOrderNo": "outboundOrderNo",
                  "warehouseCode": "warehouseCode", "customerOrderNo": "sellerOrderNo"}


class WinitActions(OutboundActions, InventoryActions):
    def __init__(self, sim: WarehouseSim) -> None:
        self.sim = sim
        self.warehouse_ids = {code: 1000001 + 88 * i for i, code in enumerate(sim.warehouses)}
        ids = itertools.count(2000001)
        self.delivery_ways = {  # oswh/DeliveryWayResponse.java
            code: [{"deliveryID": next(ids), "deliveryWay": f"{sim.carrier} {service}",
                    "winitProductCode": f"OSF{code}0{n}", "warehouseID": wid, "isMandoorplateNumbers": "N",
                    "deliveryType": "COURIER"} for n, service in ((1, "Standard"), (2, "Express"))]
            for code, wid in self.warehouse_ids.items()}
        self.outbound_refs: dict[str, str] = {}  # WINIT outbound order number -> sim reference
        self.order_meta: dict[str, dict] = {}  # sim reference -> {sellerOrderNo, deliveryWay}
        self.inbound_meta: dict[str, dict] = {}  # WINIT inbound orderNo -> {sellerOrderNo, created, …}
        self.return_meta: dict[str, dict] = {}  # sim return reference -> {created}
        self.split_zones: dict[str, str] = {}
        self.status_override: dict[str, str] = {}
        self.return_status_override: dict[str, str] = {}
        self.frozen: dict[tuple[str, str], int] = {}
        self.ledger: list[dict] = []
        self._seen: dict[tuple[str, str], tuple[int, int, int]] = {}
        self._uuid = itertools.count(1)
        self._auto = itertools.count(1)
        sim.listeners.append(self._on_sim_event)

    # -- ledger: every stock movement in the sim becomes a 库存流水 row (oswh/InventoryStatement.java)

    def _on_sim_event(self, kind: str, payload) -> None:
        if kind != "stock":
            return
        key = (payload["warehouse"], payload["sku"])
        stock = self.sim.stock[key]
        before = self._seen.get(key, (0, 0, 0))
        after = (stock.on_hand, stock.reserved, stock.inbound)
        self._seen[key] = after
        # docType values: oswh/QueryInventoryStatement.java; operationType values: no public source: assumed
        if after[0] != before[0]:
            op, doc, change = ("IN", "INBOUND", after[0] - before[0]) if after[0] > before[0] else \
                ("OUT", "OUTBOUND", after[0] - before[0])
        elif after[1] != before[1]:
            op, doc, change = ("LOCK" if after[1] > before[1] else "UNLOCK"), "OUTBOUND", after[1] - before[1]
        elif after[2] != before[2]:
            op, doc, change = "PIPELINE", "INBOUND", after[2] - before[2]
        else:
            op, doc, change = "ADJUST", "ADJUSTMENT", 0
        self.ledger.append({
            "uuid": str(next(self._uuid)), "warehouseCode": key[0], "skuCode": key[1], "docType": doc,
            "operationType": op, "startQty": before[0], "endQty": after[0], "changeQty": change,
            "changeDate": bj_time(self.sim.now), "_at": self.sim.now})

    # -- lookups ---------------------------------------------------------------------------

    def _sim_call(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except SimError as exc:
            code = SIM_ERRORS.get(exc.code, "400007")
            raise WinitError(code, f"{MESSAGES[code]}: {exc}") from exc

    def _warehouse_by_id(self, data: dict, field: str = "warehouseID") -> str:
        wid = as_int(data, field)
        for code, known in self.warehouse_ids.items():
            if known == wid:
                return code
        raise WinitError(E_WAREHOUSE, f"[{field}]仓库不存在: {wid}")

    def _warehouse_code(self, data: dict, field: str) -> str:
        code = require(data, field)
        if code not in self.warehouse_ids:
            raise WinitError(E_WAREHOUSE, f"[{field}]仓库不存在: {code}")
        return code

    def _order(self, number) -> SimOrder:
        reference = self.outbound_refs.get(str(number))
        if reference is None:
            raise WinitError(E_NOT_FOUND, f"出库单不存在: {number}")
        return self.sim.orders[reference]

    # -- base data -------------------------------------------------------------------------

    def query_warehouse(self, data: dict) -> list:
        # oswh/WarehousePayload.java (OswhClient.queryWarehouse sends no data). warehouseAddress is one
        # free-text line; its layout "street, city, postcode, country" has no public source: assumed.
        return [{"warehouseCode": code, "warehouseName": f"{code} Warehouse", "warehouseID": str(wid),
                 "warehouseAddress": address_line(self.sim.return_addresses[code])}
                for code, wid in self.warehouse_ids.items()]

    def query_delivery_way(self, data: dict) -> list:
        return list(self.delivery_ways[self._warehouse_by_id(data)])  # oswh/WarehouseIdData.java

    def register_product(self, data: dict) -> list:
        products = require(data, "productList")  # oswh/ProductsPayload.java, items oswh/Product.java
        if not isinstance(products, list):
            raise invalid("productList", "必须为数组")
        for item in products:
            require(item, "productCode")
            require(item, "englishName")
            for field in ("registeredWeight", "registeredLength", "registeredWidth", "registeredHeight"):
                if item.get(field) not in (None, ""):
                    try:
                        float(item[field])
                    except ValueError as exc:
                        raise invalid(field, "必须为数字") from exc
        for item in products:
            self.sim.add_sku(item["productCode"], title=item["englishName"], weight_g=item.get("registeredWeight"))
        return [{"productCode": item["productCode"]} for item in products]

    # -- returns (RMA) ---------------------------------------------------------------------

    def create_return_goods_order(self, data: dict) -> dict:
        check_fields(data, "rma.returnGoodsOrder.createReturnGoodsOrder")  # oswh/ReturnGoodsOrderCreateData.java
        if require(data, "isWinitOutbound") != "Y":
            raise invalid("isWinitOutbound", "仅支持万邑通出库单退货(Y)")
        order = self._order(require(data, "outboundOrderNo"))
        if require(data, "warehouseCode") != order.warehouse:
            raise invalid("warehouseCode", "与出库单仓库不一致")
        customer = require(data, "customerOrderNo")
        shipped = dict(order.lines)
        lines = []
        for item in require(data, "ReturnGoodsList"):
            check_fields(item, "rma.returnGoodsOrder.createReturnGoodsOrder.ReturnGoodsList")  # oswh/ReturnGood.java
            sku = require(item, "productCode")
            qty = as_int(item, "productNum", minimum=1)
            if qty > shipped.get(sku, 0):
                raise invalid("productNum", f"可退货商品数量不足: {sku}")
            lines.append((sku, qty))
        if customer in self.sim.returns:
            raise WinitError(E_DUPLICATE, f"已生成退货订单: {customer}")
        rma = self._sim_call(self.sim.create_return, customer, order.reference, lines)
        self.return_meta[customer] = {"created": self.sim.now}
        # OswhClient.createReturnGoodsOrder types the answer Object: no public shape, assumed.
        return {"returnGoodsOrderNo": rma.external_id}

    def query_return_order_list(self, data: dict) -> dict:
        check_fields(data, "rma.returnGoodsOrder.queryReturnOderList")  # oswh/ReturnOderListQueryData.java
        page, size = page_params(data, "pageParams")
        rows = []
        for rma in self.sim.returns.values():
            order = self.sim.orders[rma.order_reference]
            row = {  # oswh/ReturnOrder.java: the create's customerOrderNo comes back as sellerOrderNo
                "returnGoodsOrderNo": rma.external_id, "rmaNo": rma.external_id, "sellerOrderNo": rma.reference,
                "outboundOrderNo": order.external_id, "warehouseCode": order.warehouse,
                "status": self.return_status_override.get(rma.reference, RETURN_CODES[rma.status]),
                "qtyItemNum": sum(q for _, q in rma.lines),
                "createDate": bj_time(self.return_meta.get(rma.reference, {}).get("created", self.sim.now)),
                "orderGoodsList": return_goods(rma)}
            if all(not data.get(asked) or data[asked] == row[field] for asked, field in RETURN_FILTERS.items()):
                rows.append(row)
        # PageTotalListResponse.java
        return {"list": rows[(page - 1) * size: page * size],
                "pageParams": {"pageNo": page, "pageSize": size, "totalCount": len(rows)}}


def address_line(address: dict) -> str:
    return ", ".join(part for part in (address["address1"], address.get("address2"), address["city"],
                                       address["zip"], address["country_code"]) if part)


def return_goods(rma) -> list[dict]:
    """oswh/ReturnOrderGood.java rows: confirmQty counts units the warehouse has received (0 while
    the parcel is on its way); once inspected, one row per SKU and merchandiseGrade (GOOD /
    DEFECTIVE, the grades oswh/OutboundOrderProduct.java documents)."""
    if rma.status == "inspected":
        return [{"merchandiseCode": sku, "confirmQty": float(units), "merchandiseGrade": GRADES[grade]}
                for sku, units, grade in rma.graded]
    received = rma.status == "received"
    return [{"merchandiseCode": sku, "confirmQty": float(qty if received else 0), "merchandiseGrade": None}
            for sku, qty in rma.lines]


# action name -> handler method name (action names: OswhClient.java)
ACTIONS = {
    "queryWarehouse": "query_warehouse",
    "queryDeliveryWay": "query_delivery_way",
    "registerProduct": "register_product",
    "createOutboundOrder": "create_outbound_order",
    "voidOutboundOrder": "void_outbound_order",
    "queryOutboundOrder": "query_outbound_order",
    "queryOutboundOrderList": "query_outbound_order_list",
    "tracking.getOrderVerdorTracking": "get_order_verdor_tracking",
    "queryWarehouseStorage": "query_warehouse_storage",
    "winit.inventory.pageInvInouts": "page_inv_inouts",
    "winit.wh.inbound.order.create": "create_inbound_order",
    "winit.wh.inbound.getOrderList": "inbound_order_list",
    "winit.wh.inbound.getOrderDetail": "inbound_order_detail",
    "rma.returnGoodsOrder.createReturnGoodsOrder": "create_return_goods_order",
    "rma.returnGoodsOrder.queryReturnOderList": "query_return_order_list",
}
