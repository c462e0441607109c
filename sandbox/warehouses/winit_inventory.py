"""WINIT stock and inbound actions of the emulator: total stock, the stock ledger, inbound orders.

Shapes from EalenXie/sdk-all ``winit-sdk/src/main/java/io/github/ealenxie/winit/`` (cited per
handler). Stock rows carry the live quantity fields only: the deprecated ``inventory`` and
``reservedInventory`` (已停用 in WarehouseStorage.java) are absent, as a parser still reading
them must fail. ``WinitActions.frozen`` freezes units (qtyFrozen) without touching the sim.
"""

from __future__ import annotations

from sandbox.warehouses.winit_protocol import (
    E_NOT_FOUND,
    E_SKU,
    INBOUND_CODES,
    WinitError,
    as_int,
    bj_time,
    check_fields,
    invalid,
    parse_bj,
    require,
)


def page_params(data: dict, container: str) -> tuple[int, int]:
    """PageParams.java under ``container`` (pageParams / pageVo): page number and size, max 200."""
    pager = check_fields(data.get(container) or {}, "pageParams")
    page = as_int(pager, "pageNo", default=1, minimum=1)
    size = as_int(pager, "pageSize", default=200, minimum=1)
    if size > 200:
        raise invalid("pageSize", "最大200")
    return page, size


class InventoryActions:
    """Mixed into WinitActions, which holds the sim, the ledger and the inbound table."""

    def query_warehouse_storage(self, data: dict) -> dict:
        check_fields(data, "queryWarehouseStorage")
        code = self._warehouse_by_id(data)
        page = as_int(data, "pageNum", default=1, minimum=1)
        size = as_int(data, "pageSize", default=100, minimum=1)
        rows = []
        for (wh, sku), st in sorted(self.sim.stock.items()):
            if wh != code:
                continue
            frozen = min(self.frozen.get((wh, sku), 0), st.on_hand - st.reserved)
            rows.append({  # oswh/WarehouseStorage.java (live fields)
                "productCode": sku, "productName": self.sim.skus.get(sku, {}).get("title") or sku,
                "specification": "", "merchandiseSerno": "", "customerCode": "C0001",
                "warehouseID": self.warehouse_ids[code], "warehouseCode": code, "warehouseName": f"{code} Warehouse",
                "inStockQty": str(st.on_hand), "qtyAvailable": str(st.on_hand - st.reserved - frozen),
                "qtyWaitOut": str(st.reserved), "qtyFrozen": frozen, "qtyLostConfirming": 0, "qtyDestruction": 0,
                "prohibitFrozenQty": "0", "prohibitUsableQty": 0, "preSaleWaitOutQty": 0,
                "pipelineInventory": str(st.inbound), "isActive": "Y", "isReturnInventory": "N"})
        # oswh/WarehouseStorageResp.java
        return {"list": rows[(page - 1) * size: page * size], "total": len(rows), "currentPageNum": page,
                "currentPageSize": size}

    def page_inv_inouts(self, data: dict) -> dict:
        check_fields(data, "winit.inventory.pageInvInouts")  # oswh/QueryInventoryStatement.java
        start = parse_bj(require(data, "startDate"), "startDate", date_only=True)
        end = parse_bj(require(data, "endDate"), "endDate", date_only=True) + 86400
        if data.get("warehouseCode"):
            self._warehouse_code(data, "warehouseCode")
        page, size = page_params(data, "pageVo")
        rows = [{k: v for k, v in row.items() if k != "_at"} for row in self.ledger
                if start <= row["_at"] < end
                and (not data.get("warehouseCode") or row["warehouseCode"] == data["warehouseCode"])
                and (not data.get("skuCode") or row["skuCode"] == data["skuCode"])
                and (not data.get("docType") or row["docType"] == data["docType"])]
        # PageTotalListResponse.java: list + pageParams {pageNo, pageSize, totalCount}
        return {"pageParams": {"pageNo": page, "pageSize": size, "totalCount": len(rows)},
                "list": rows[(page - 1) * size: page * size]}

    def create_inbound_order(self, data: dict) -> dict:
        check_fields(data, "winit.wh.inbound.order.create")  # oswh/InboundOrderPayload.java
        if require(data, "orderType") not in ("SD", "DW", "DI"):
            raise invalid("orderType", "只能为SD、DW或DI")
        require(data, "winitProductCode")
        code = self._warehouse_code(data, "destinationWarehouseCode")
        self._warehouse_code(data, "inspectionWarehouseCode")
        lines = []
        for package in require(data, "packageList"):
            check_fields(package, "winit.wh.inbound.order.create.packageList")
            require(package, "sellerCaseNo")
            for item in require(package, "merchandiseList"):
                check_fields(item, "winit.wh.inbound.order.create.merchandiseList")
                sku = require(item, "merchandiseCode")
                if sku not in self.sim.skus:
                    raise WinitError(E_SKU, f"[merchandiseCode]商品不存在: {sku}")
                lines.append((sku, as_int(item, "quantity", minimum=1)))
        forecast = data.get("directForecastInfo") or {}
        eta = forecast.get("expectedSendWarehouseTime")
        eta = parse_bj(eta, "expectedSendWarehouseTime") if eta else None
        seller = data.get("sellerOrderNo") or f"AUTO{next(self._auto)}"
        inbound = self._sim_call(self.sim.create_inbound, seller, code, lines, eta)
        self.inbound_meta[inbound.external_id] = {"sellerOrderNo": seller, "created": self.sim.now, "warehouse": code,
                                                  "orderType": data["orderType"],
                                                  "winitProductCode": data["winitProductCode"]}
        return {"orderNo": inbound.external_id}  # oswh/OrderNoPayload.java

    def _inbound_summary(self, number: str) -> dict:
        """oswh/OrderPayload.java: a list row - no sellerOrderNo."""
        meta = self.inbound_meta[number]
        inbound = self.sim.inbounds[meta["sellerOrderNo"]]
        return {"orderNo": number, "orderCreateDate": bj_time(meta["created"]),
                "status": INBOUND_CODES[inbound.status], "totalPackageQty": 1,
                "totalItemQty": sum(q for _, q in inbound.lines), "volume": 0.0, "weight": 0,
                "inspectionVolume": "", "inspectionWeight": "", "inspectionTotalItemQty": "",
                "inspectionTotalPackageQty": ""}

    def inbound_order_list(self, data: dict) -> dict:
        check_fields(data, "winit.wh.inbound.getOrderList")  # oswh/InboundOrderQueryParams.java
        page, size = page_params(data, "pageParams")
        start = data.get("orderCreateDateStart")
        start = parse_bj(start, "orderCreateDateStart", date_only=True) if start else 0.0
        end = data.get("orderCreateDateEnd")
        end = parse_bj(end, "orderCreateDateEnd", date_only=True) + 86400 if end else float("inf")
        numbers = [number for number, meta in self.inbound_meta.items()
                   if start <= meta["created"] < end
                   and data.get("destinationWareHouseCode") in (None, "", meta["warehouse"])]
        # oswh/InboundOrderResponse.java: pageParams (PageParams.java, no total) + orderList
        return {"pageParams": {"pageNo": page, "pageSize": size},
                "orderList": [self._inbound_summary(n) for n in numbers[(page - 1) * size: page * size]]}

    def inbound_order_detail(self, data: dict) -> dict:
        check_fields(data, "winit.wh.inbound.getOrderDetail")  # oswh/OrderDetailQueryParams.java
        number = str(require(data, "orderNo"))
        if number not in self.inbound_meta:
            raise WinitError(E_NOT_FOUND, f"入库单不存在: {number}")
        meta = self.inbound_meta[number]
        inbound = self.sim.inbounds[meta["sellerOrderNo"]]
        summary = self._inbound_summary(number)
        return {  # oswh/OrderResponse.java
            "orderNo": number, "orderType": meta["orderType"], "status": summary["status"],
            "sellerOrderNo": meta["sellerOrderNo"], "winitProductCode": meta["winitProductCode"],
            "destinationWarehouseCode": meta["warehouse"], "inspectionWarehouseCode": meta["warehouse"],
            "createdDate": summary["orderCreateDate"], "totalPackageQty": 1,
            "totalMerchandiseQty": len(inbound.lines), "totalItemQty": summary["totalItemQty"],
            "merchandiseList": [{"merchandiseCode": sku, "quantity": qty} for sku, qty in inbound.lines]}
