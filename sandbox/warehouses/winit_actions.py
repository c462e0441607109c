"""WINIT actions the emulator answers: WINIT request shapes in, WarehouseSim calls, WINIT shapes out.

Every handler takes the request's ``data`` and returns the answer's ``data``; refusals raise
:class:`WinitError`. Handlers run under the sim's lock, so they see one consistent warehouse.
"""

from __future__ import annotations

import itertools

from sandbox.warehouses.sim import SimError, SimOrder, WarehouseSim
from sandbox.warehouses.winit_protocol import (
    E_DUPLICATE,
    E_NOT_FOUND,
    E_SKU,
    E_WAREHOUSE,
    MESSAGES,
    OUTBOUND_CODES,
    SIM_ERRORS,
    TRACE_CODES,
    WinitError,
    as_int,
    bj_time,
    invalid,
    parse_bj,
    require,
)

# queryOutboundOrderList "status" groups (published: valid, outbound, stockup, exception).
STATUS_GROUPS = {
    "valid": {"CF", "PK", "DLI", "TSC", "EX"}, "outbound": {"DLI", "TSC"}, "stockup": {"CF", "PK"},
    "exception": {"EX"},
}
RETURN_CODES = {"created": "OD", "received": "RE"}
REASONS = {"lost": "包裹丢失", "damaged": "包裹破损", "returned_to_sender": "包裹退回发件人"}


def _sim(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except SimError as exc:
        code = SIM_ERRORS.get(exc.code, "400007")
        raise WinitError(code, f"{MESSAGES[code]}: {exc}") from exc


def _page(rows: list, page: int, size: int) -> list:
    return rows[(page - 1) * size: page * size]


def _pager(page: int, size: int, total: int) -> dict:
    return {"pageNo": page, "pageSize": size, "totalCount": total}


class WinitActions:
    def __init__(self, sim: WarehouseSim) -> None:
        self.sim = sim
        self.warehouse_ids = {code: 1000001 + 88 * i for i, code in enumerate(sim.warehouses)}
        ids = itertools.count(2000001)
        self.delivery_ways = {
            code: [{"deliveryID": next(ids), "deliveryWay": f"{sim.carrier} {service}",
                    "winitProductCode": f"OSF{code}0{n}", "warehouseID": wid, "isMandoorplateNumbers": "N",
                    "deliveryType": "COURIER"} for n, service in ((1, "Standard"), (2, "Express"))]
            for code, wid in self.warehouse_ids.items()}
        self.outbound_refs: dict[str, str] = {}  # outboundOrderNum -> sim reference
        self.order_meta: dict[str, dict] = {}  # sim reference -> {sellerOrderNo, deliveryWay}
        self.inbound_meta: dict[str, dict] = {}  # WINIT inbound orderNo -> {sellerOrderNo, created}
        self.ledger: list[dict] = []
        self._seen: dict[tuple[str, str], tuple[int, int, int]] = {}
        self._uuid = itertools.count(1)
        self._auto = itertools.count(1)
        sim.listeners.append(self._on_sim_event)

    # -- ledger: every stock movement in the sim becomes a 库存流水 row ---------------------

    def _on_sim_event(self, kind: str, payload) -> None:
        if kind != "stock":
            return
        key = (payload["warehouse"], payload["sku"])
        stock = self.sim.stock[key]
        before = self._seen.get(key, (0, 0, 0))
        after = (stock.on_hand, stock.reserved, stock.inbound)
        self._seen[key] = after
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
        return [{"warehouseCode": code, "warehouseName": f"{code} Warehouse", "warehouseID": wid,
                 "warehouseAddress": f"Logistics Park {i + 1}, {self.sim.warehouses[code]}"}
                for i, (code, wid) in enumerate(self.warehouse_ids.items())]

    def query_delivery_way(self, data: dict) -> list:
        return list(self.delivery_ways[self._warehouse_by_id(data)])

    def register_product(self, data: dict) -> list:
        products = require(data, "productList")
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

    # -- outbound --------------------------------------------------------------------------

    def create_outbound_order(self, data: dict) -> dict:
        code = self._warehouse_by_id(data)
        way_id = as_int(data, "deliveryWayID")
        way = next((w for w in self.delivery_ways[code] if w["deliveryID"] == way_id), None)
        if way is None:
            raise invalid("deliveryWayID", f"派送方式不属于该仓库: {way_id}")
        repeatable = require(data, "repeatable")
        if repeatable not in ("Y", "N"):
            raise invalid("repeatable", "只能为Y或N")
        for field in ("recipientName", "state", "city", "zipCode", "address1"):
            require(data, field)
        items = require(data, "productList")
        lines = [(require(item, "productCode"), as_int(item, "productNum", minimum=1)) for item in items]
        seller = data.get("sellerOrderNo") or f"AUTO{next(self._auto)}"
        reference = seller
        if repeatable == "Y" and seller in self.sim.orders:  # a deliberate repeat gets its own order
            reference = f"{seller}#{next(self._auto)}"
        address = {k: data.get(k) for k in ("recipientName", "phoneNum", "emailAddress", "state", "region", "city",
                                           "zipCode", "address1", "address2", "doorplateNumbers")}
        order = _sim(self.sim.create_order, reference, code, lines, address, id_prefix="WO")
        self.outbound_refs[order.external_id] = reference
        self.order_meta[reference] = {"sellerOrderNo": seller, "deliveryWay": way}
        return {"outboundOrderNum": order.external_id}

    def void_outbound_order(self, data: dict) -> dict:
        order = self._order(require(data, "outboundOrderNum"))
        _sim(self.sim.cancel_order, order.reference)
        return {"outboundOrderNum": order.external_id}

    def _status(self, order: SimOrder) -> tuple[str, str]:
        return OUTBOUND_CODES[order.status]

    def _detail(self, order: SimOrder) -> dict:
        meta = self.order_meta[order.reference]
        status, name = self._status(order)
        finished = next((e.at for e in order.events if e.code == "delivered"), None)
        last = order.events[-1].code if order.events else ""
        void = {"cancelled": "订单已作废", "exception": REASONS.get(last)}.get(order.status)
        merch = [{"productCode": sku, "productNum": qty} for sku, qty in order.lines]
        package = {"packageNum": f"{order.external_id}A", "status": status, "carrier": order.carrier,
                   "trackingNos": [order.tracking_number] if order.tracking_number else [],
                   "outboundDate": bj_time(order.shipped_at), "actualFinishTime": bj_time(finished),
                   "reasonForVoid": void, "merchandiseList": merch}
        a = order.address
        return {
            "outboundOrderNum": order.external_id, "sellerOrderNo": meta["sellerOrderNo"], "status": status,
            "statusName": name, "warehouseCode": order.warehouse,
            "warehouseId": str(self.warehouse_ids[order.warehouse]), "warehouseName": f"{order.warehouse} Warehouse",
            "deliverywayId": meta["deliveryWay"]["deliveryID"], "deliverywayName": meta["deliveryWay"]["deliveryWay"],
            "winitProductCode": meta["deliveryWay"]["winitProductCode"], "carrier": order.carrier,
            "trackingNum": order.tracking_number, "winitTrackingNo": order.tracking_number,
            "orderedTime": bj_time(order.created_at), "outboundDate": bj_time(order.shipped_at),
            "actualFinishTime": bj_time(finished), "recipientName": a.get("recipientName"),
            "state": a.get("state"), "regionName": a.get("region"), "city": a.get("city"), "zipCode": a.get("zipCode"),
            "address1": a.get("address1"), "address2": a.get("address2"), "phoneNum": a.get("phoneNum"),
            "emailAddress": a.get("emailAddress"), "reasonForVoid": void,
            "productCode": order.lines[0][0], "productNum": sum(q for _, q in order.lines), "packageList": [package]}

    def query_outbound_order(self, data: dict) -> dict:
        order = self._order(require(data, "outboundOrderNum"))
        return {"list": [self._detail(order)], "total": 1, "currentPageNum": 1, "currentPageSize": 1}

    def query_outbound_order_list(self, data: dict) -> dict:
        start = parse_bj(require(data, "dateOrderedStartDate"), "dateOrderedStartDate", date_only=True)
        end = parse_bj(require(data, "dateOrderedEndDate"), "dateOrderedEndDate", date_only=True) + 86400
        page = as_int(data, "pageNum", default=1, minimum=1)
        size = as_int(data, "pageSize", default=100, minimum=1)
        numbers = {n.strip() for n in str(data.get("outboundOrderNum") or "").split(",") if n.strip()}
        status = data.get("status")
        wanted = None if status in (None, "", "ALL") else STATUS_GROUPS.get(status, {status})
        rows = []
        for order in self.sim.orders.values():
            meta = self.order_meta.get(order.reference)
            if meta is None or not start <= order.created_at < end:
                continue
            code, name = self._status(order)
            if (data.get("sellerOrderNo") and meta["sellerOrderNo"] != data["sellerOrderNo"]) or \
                    (numbers and order.external_id not in numbers) or (wanted and code not in wanted) or \
                    (data.get("trackingNo") and order.tracking_number != data["trackingNo"]) or \
                    (data.get("warehouseId") and str(self.warehouse_ids[order.warehouse]) != str(data["warehouseId"])):
                continue
            rows.append({
                "documentNo": order.external_id, "sellerOrderNo": meta["sellerOrderNo"], "status": code,
                "statusName": name, "warehouseCode": order.warehouse,
                "warehouseId": self.warehouse_ids[order.warehouse], "warehouseName": f"{order.warehouse} Warehouse",
                "trackingNo": order.tracking_number,
                "winitTrackingNo": order.tracking_number, "dateOrdered": bj_time(order.created_at),
                "dateFinish": bj_time(order.shipped_at), "deliverywayName": meta["deliveryWay"]["deliveryWay"],
                "sku": ",".join(f"{sku}@@{qty}" for sku, qty in order.lines),
                "itemqty": sum(q for _, q in order.lines), "isRepeat": "N"})
        return {"list": _page(rows, page, size), "total": len(rows), "currentPageNum": page, "currentPageSize": size}

    def get_order_verdor_tracking(self, data: dict) -> list:
        wanted = str(require(data, "trackingnos")).replace(" ", ",").split(",")
        by_tracking = {o.tracking_number: o for o in self.sim.orders.values() if o.tracking_number}
        entries = []
        for number in filter(None, (w.strip() for w in wanted)):
            order = by_tracking.get(number) or (self.sim.orders.get(self.outbound_refs.get(number, "")))
            if order is None:
                continue
            trace = []
            for i, event in enumerate(order.events):
                code, text, kind = TRACE_CODES[event.code]
                trace.append({"type": kind, "date": bj_time(event.at), "eventCode": code, "eventStatus": event.code,
                              "eventDescription": text, "location": event.location or order.warehouse,
                              "lastEvent": "Y" if i == len(order.events) - 1 else "N", "operator": "WINIT"})
            entries.append({
                "orderNo": order.external_id, "trackingNo": order.tracking_number or "",
                "origin": self.sim.warehouses[order.warehouse], "destination": order.address.get("state"),
                "status": self._status(order)[0], "carrier": order.carrier,
                "trackingUrl": self.sim.tracking_url.format(order.tracking_number) if order.tracking_number else None,
                "occurTime": bj_time(order.events[-1].at) if order.events else None, "trace": trace})
        return entries

    # -- inventory -------------------------------------------------------------------------

    def query_warehouse_storage(self, data: dict) -> dict:
        code = self._warehouse_by_id(data)
        page = as_int(data, "pageNum", default=1, minimum=1)
        size = as_int(data, "pageSize", default=100, minimum=1)
        rows = [{"productCode": sku, "productName": self.sim.skus.get(sku, {}).get("title") or sku,
                 "specification": "", "inventory": str(st.on_hand), "reservedInventory": str(st.reserved),
                 "pipelineInventory": str(st.inbound), "warehouseID": str(self.warehouse_ids[code])}
                for (wh, sku), st in sorted(self.sim.stock.items()) if wh == code]
        return {"list": _page(rows, page, size), "total": len(rows), "currentPageNum": page, "currentPageSize": size}

    def page_inv_inouts(self, data: dict) -> dict:
        start = parse_bj(require(data, "startDate"), "startDate", date_only=True)
        end = parse_bj(require(data, "endDate"), "endDate", date_only=True) + 86400
        if data.get("warehouseCode"):
            self._warehouse_code(data, "warehouseCode")
        pager = data.get("pageVo") or {}
        page, size = as_int(pager, "pageNo", default=1, minimum=1), as_int(pager, "pageSize", default=10, minimum=1)
        rows = [{k: v for k, v in row.items() if k != "_at"} for row in self.ledger
                if start <= row["_at"] < end
                and (not data.get("warehouseCode") or row["warehouseCode"] == data["warehouseCode"])
                and (not data.get("skuCode") or row["skuCode"] == data["skuCode"])
                and (not data.get("docType") or row["docType"] == data["docType"])]
        return {"pageParams": _pager(page, size, len(rows)), "list": _page(rows, page, size)}

    # -- inbound (ASN) ---------------------------------------------------------------------

    def create_inbound_order(self, data: dict) -> dict:
        if require(data, "orderType") not in ("SD", "DW", "DI"):
            raise invalid("orderType", "只能为SD、DW或DI")
        require(data, "winitProductCode")
        code = self._warehouse_code(data, "destinationWarehouseCode")
        self._warehouse_code(data, "inspectionWarehouseCode")
        lines = []
        for package in require(data, "packageList"):
            require(package, "sellerCaseNo")
            for item in require(package, "merchandiseList"):
                sku = require(item, "merchandiseCode")
                if sku not in self.sim.skus:
                    raise WinitError(E_SKU, f"[merchandiseCode]商品不存在: {sku}")
                lines.append((sku, as_int(item, "quantity", minimum=1)))
        forecast = data.get("directForecastInfo") or {}
        eta = forecast.get("expectedSendWarehouseTime")
        eta = parse_bj(eta, "expectedSendWarehouseTime") if eta else None
        seller = data.get("sellerOrderNo") or f"AUTO{next(self._auto)}"
        inbound = _sim(self.sim.create_inbound, seller, code, lines, eta)
        self.inbound_meta[inbound.external_id] = {"sellerOrderNo": seller, "created": self.sim.now, "warehouse": code}
        return {"orderNo": inbound.external_id}

    def inbound_order_list(self, data: dict) -> dict:
        page, size = as_int(data, "pageNo", minimum=1), as_int(data, "pageSize", minimum=1)
        start = data.get("orderCreateDateStart")
        start = parse_bj(start, "orderCreateDateStart", date_only=True) if start else 0.0
        end = data.get("orderCreateDateEnd")
        end = parse_bj(end, "orderCreateDateEnd", date_only=True) + 86400 if end else float("inf")
        rows = [{"orderNo": number, "sellerOrderNo": meta["sellerOrderNo"],
                 "destinationWarehouseCode": meta["warehouse"],
                 "status": "DR" if self.sim.inbounds[meta["sellerOrderNo"]].status == "created" else "FN",
                 "orderCreateDate": bj_time(meta["created"])}
                for number, meta in self.inbound_meta.items()
                if start <= meta["created"] < end
                and data.get("destinationWarehouseCode") in (None, "", meta["warehouse"])]
        return {"list": _page(rows, page, size), "pageParams": _pager(page, size, len(rows))}

    # -- returns (RMA) ---------------------------------------------------------------------

    def create_return_goods_order(self, data: dict) -> dict:
        if require(data, "isWinitOutbound") != "Y":
            raise invalid("isWinitOutbound", "仅支持万邑通出库单退货(Y)")
        order = self._order(require(data, "outboundOrderNo"))
        if require(data, "warehouseCode") != order.warehouse:
            raise invalid("warehouseCode", "与出库单仓库不一致")
        customer = require(data, "customerOrderNo")
        shipped = dict(order.lines)
        lines = []
        for item in require(data, "ReturnGoodsList"):
            sku = require(item, "productCode")
            qty = as_int(item, "productNum", minimum=1)
            if qty > shipped.get(sku, 0):
                raise invalid("productNum", f"可退货商品数量不足: {sku}")
            lines.append((sku, qty))
        if customer in self.sim.returns:
            raise WinitError(E_DUPLICATE, f"已生成退货订单: {customer}")
        rma = _sim(self.sim.create_return, customer, order.reference, lines)
        return {"returnGoodsOrderNo": rma.external_id, "rmaNo": rma.external_id}

    def query_return_order_list(self, data: dict) -> dict:
        pager = data.get("pageParams") or {}
        page, size = as_int(pager, "pageNo", default=1, minimum=1), as_int(pager, "pageSize", default=20, minimum=1)
        rows = []
        for rma in self.sim.returns.values():
            order = self.sim.orders[rma.order_reference]
            row = {"returnGoodsOrderNo": rma.external_id, "rmaNo": rma.external_id, "customerOrderNo": rma.reference,
                   "outboundOrderNo": order.external_id, "warehouseCode": order.warehouse,
                   "status": RETURN_CODES.get(rma.status, "OD")}
            if all(not data.get(k) or data[k] == row[k]
                   for k in ("customerOrderNo", "outboundOrderNo", "returnGoodsOrderNo")):
                rows.append(row)
        return {"list": _page(rows, page, size), "pageParams": _pager(page, size, len(rows))}


# action name -> handler method name
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
    "rma.returnGoodsOrder.createReturnGoodsOrder": "create_return_goods_order",
    "rma.returnGoodsOrder.queryReturnOderList": "query_return_order_list",
}
