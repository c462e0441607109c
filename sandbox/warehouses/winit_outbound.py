"""WINIT outbound actions of the emulator: create (with splitting), void, query, list, tracking.

Answers in the SDK's shapes (paths relative to EalenXie/sdk-all
``winit-sdk/src/main/java/io/github/ealenxie/winit/``). Splitting is deterministic: every SKU
sits in a stock zone (``WinitActions.split_zones``, default zone "A"); an order whose lines sit
in several zones becomes one WINIT order per zone, answered with splitType "WW" and every number
in ``orderNoList``. Sub-orders live in the sim as ``<sellerOrderNo>`` (the first) and
``<sellerOrderNo>/2``, ``/3``… ``status_override`` makes an order report any status code (to
show the connector a code it does not know).
"""

from __future__ import annotations

from sandbox.warehouses.sim import SimOrder
from sandbox.warehouses.winit_protocol import (
    E_DUPLICATE,
    E_SKU,
    E_STOCK,
    OUTBOUND_CODES,
    SPLIT_NONE,
    SPLIT_WITHIN,
    TRACE_CODES,
    WinitError,
    as_int,
    bj_time,
    check_fields,
    invalid,
    parse_bj,
    require,
)

# queryOutboundOrderList "status" groups (no public source: assumed).
STATUS_GROUPS = {
    "valid": {"CF", "PK", "DLI", "TSC", "EX"}, "outbound": {"DLI", "TSC"}, "stockup": {"CF", "PK"},
    "exception": {"EX"},
}
REASONS = {"lost": "包裹丢失", "damaged": "包裹破损", "returned_to_sender": "包裹退回发件人"}


class OutboundActions:
    """Mixed into WinitActions, which holds the sim and the tables used here."""

    def create_outbound_order(self, data: dict) -> dict:
        check_fields(data, "createOutboundOrder")
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
        lines = []
        for item in require(data, "productList"):
            check_fields(item, "createOutboundOrder.productList")
            lines.append((require(item, "productCode"), as_int(item, "productNum", minimum=1)))
        seller = data.get("sellerOrderNo") or f"AUTO{next(self._auto)}"
        reference = seller
        if repeatable == "Y" and seller in self.sim.orders:  # a deliberate repeat gets its own order
            reference = f"{seller}#{next(self._auto)}"
        elif seller in self.sim.orders:
            raise WinitError(E_DUPLICATE, f"卖家订单号重复: {seller}")
        self._check_stock(code, lines)
        address = {k: data.get(k) for k in ("recipientName", "phoneNum", "emailAddress", "state", "region", "city",
                                           "zipCode", "address1", "address2", "doorplateNumbers")}
        zones: dict[str, list] = {}
        for sku, qty in lines:
            zones.setdefault(self.split_zones.get(sku, "A"), []).append((sku, qty))
        numbers = []
        for n, part in enumerate(zones.values(), start=1):
            part_ref = reference if n == 1 else f"{reference}/{n}"
            order = self._sim_call(self.sim.create_order, part_ref, code, part, address, id_prefix="WO")
            self.outbound_refs[order.external_id] = part_ref
            self.order_meta[part_ref] = {"sellerOrderNo": seller, "deliveryWay": way}
            numbers.append(order.external_id)
        # oswh/CreateOutboundOrderResponse.java: orderNo, splitType, orderNoList
        return {"orderNo": numbers[0], "splitType": SPLIT_WITHIN if len(numbers) > 1 else SPLIT_NONE,
                "orderNoList": numbers}

    def _check_stock(self, code: str, lines: list[tuple[str, int]]) -> None:
        """All parts or none: the whole order's stock is checked before any part is made."""
        wanted: dict[str, int] = {}
        for sku, qty in lines:
            if sku not in self.sim.skus:
                raise WinitError(E_SKU, f"[productCode]商品不存在: {sku}")
            wanted[sku] = wanted.get(sku, 0) + qty
        for sku, qty in wanted.items():
            stock = self.sim.stock.get((code, sku))
            if stock is None or stock.available - self.frozen.get((code, sku), 0) < qty:
                raise WinitError(E_STOCK, f"库存不足: {sku}")

    def void_outbound_order(self, data: dict) -> str:
        check_fields(data, "voidOutboundOrder")
        order = self._order(require(data, "outboundOrderNum"))
        self._sim_call(self.sim.cancel_order, order.reference)
        return order.external_id  # OswhClient.cancelOutboundOrder: WinitResponse<String>

    def _status(self, order: SimOrder) -> tuple[str, str]:
        override = self.status_override.get(order.external_id)
        return (override, override) if override else OUTBOUND_CODES[order.status]

    def _detail(self, order: SimOrder) -> dict:
        """oswh/OutboundOrderInfoResponse.java, packages oswh/OutboundPackageList.java."""
        meta = self.order_meta[order.reference]
        status, name = self._status(order)
        finished = next((e.at for e in order.events if e.code == "delivered"), None)
        last = order.events[-1].code if order.events else ""
        void = {"cancelled": "订单已作废", "exception": REASONS.get(last)}.get(order.status)
        merch = [{"productCode": sku, "productNum": qty, "specification": ""} for sku, qty in order.lines]
        package = {"packageNum": f"{order.external_id}A", "status": status,
                   "trackingNos": [order.tracking_number] if order.tracking_number else [],
                   "outboundDate": bj_time(order.shipped_at), "actualFinishTime": bj_time(finished),
                   "reasonForVoid": void, "isOperateByWinit": "N", "merchandiseList": merch}
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
            "emailAddress": a.get("emailAddress"), "productCode": order.lines[0][0],
            "productNum": sum(q for _, q in order.lines), "isRepeat": "N", "packageList": [package]}

    def query_outbound_order(self, data: dict) -> dict:
        check_fields(data, "queryOutboundOrder")
        order = self._order(require(data, "outboundOrderNum"))
        # oswh/OutboundOrderResp.java
        return {"list": [self._detail(order)], "total": 1, "currentPageNum": 1, "currentPageSize": 1}

    def query_outbound_order_list(self, data: dict) -> dict:
        check_fields(data, "queryOutboundOrderList")
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
            rows.append({  # oswh/OutboundOrder.java
                "documentNo": order.external_id, "sellerOrderNo": meta["sellerOrderNo"], "status": code,
                "statusName": name, "warehouseCode": order.warehouse,
                "warehouseId": self.warehouse_ids[order.warehouse], "warehouseName": f"{order.warehouse} Warehouse",
                "trackingNo": order.tracking_number, "winitTrackingNo": order.tracking_number,
                "dateOrdered": bj_time(order.created_at), "dateFinish": bj_time(order.shipped_at),
                "deliverywayName": meta["deliveryWay"]["deliveryWay"],
                "sku": ",".join(f"{sku}@@{qty}" for sku, qty in order.lines),
                "itemqty": sum(q for _, q in order.lines), "isRepeat": "N"})
        return {"list": rows[(page - 1) * size: page * size], "total": len(rows), "currentPageNum": page,
                "currentPageSize": size}

    def get_order_verdor_tracking(self, data: dict) -> list:
        check_fields(data, "tracking.getOrderVerdorTracking")
        # The separator for several numbers is not published (no public source: assumed comma).
        wanted = str(require(data, "trackingnos")).split(",")
        by_tracking = {o.tracking_number: o for o in self.sim.orders.values() if o.tracking_number}
        entries = []
        for number in filter(None, (w.strip() for w in wanted)):
            order = by_tracking.get(number) or (self.sim.orders.get(self.outbound_refs.get(number, "")))
            if order is None:
                continue
            trace = []
            for i, event in enumerate(order.events):
                code, text, kind = TRACE_CODES[event.code]
                trace.append({  # oswh/Trace.java
                    "type": kind, "date": bj_time(event.at), "eventCode": code, "eventStatus": event.code,
                    "eventDescription": text, "location": event.location or order.warehouse,
                    "lastEvent": "Y" if i == len(order.events) - 1 else "N", "operator": "WINIT"})
            entries.append({  # oswh/OrderVerdorTracking.java
                "orderNo": order.external_id, "trackingNo": order.tracking_number or "",
                "origin": self.sim.warehouses[order.warehouse], "destination": order.address.get("state"),
                "status": self._status(order)[0], "carrier": order.carrier,
                "trackingUrl": self.sim.tracking_url.format(order.tracking_number) if order.tracking_number else None,
                "occurTime": bj_time(order.events[-1].at) if order.events else None, "trace": trace})
        return entries
