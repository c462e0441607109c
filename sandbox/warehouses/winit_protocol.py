"""The vendor side of WINIT's open API protocol, as the emulator enforces it.

Written independently of the connector on purpose (a shared bug would hide itself): the server
re-serialises the ``data`` it received the way WINIT's Java gateway does (keys sorted, nulls
omitted, compact, UTF-8 unescaped) and checks ``sign`` = upper(md5(token + name/value pairs of
action, app_key, data, format, platform, sign_method, timestamp, version + token)).

Request and answer field names follow the public SDK EalenXie/sdk-all, module winit-sdk (paths
below are relative to ``winit-sdk/src/main/java/io/github/ealenxie/winit/``). Error codes other
than "0", outbound status codes and tracking event codes are published nowhere we could find:
each such line says "no public source: assumed" - one table to fix when WINIT's dictionary is at
hand. The emulator refuses request fields its SDK class does not have (the real gateway may
ignore them; refusing catches a connector that sends a misspelt key).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))  # WINIT system time; China has no DST

OK = "0"  # WinitResponse.java isOk(): code "0"
E_SIGN = "400001"  # no public source: assumed
E_APP_KEY = "400002"  # no public source: assumed
E_TIMESTAMP = "400003"  # no public source: assumed
E_ACTION = "400004"  # no public source: assumed
E_THROTTLED = "400005"  # no public source: assumed
E_NOT_FOUND = "400006"  # no public source: assumed
E_INVALID = "400007"  # no public source: assumed
E_DUPLICATE = "400008"  # no public source: assumed
E_STOCK = "400009"  # no public source: assumed
E_SKU = "400010"  # no public source: assumed
E_WAREHOUSE = "400011"  # no public source: assumed
E_STATE = "400012"  # no public source: assumed
E_SYSTEM = "500000"  # no public source: assumed

MESSAGES = {
    OK: "操作成功",  # WinitResponse.java isOk()
    E_SIGN: "签名错误",
    E_APP_KEY: "app_key不存在或未授权",
    E_TIMESTAMP: "时间戳无效或已过期",
    E_ACTION: "接口不存在",
    E_THROTTLED: "请求过于频繁，请稍后再试",  # noqa: RUF001 (WINIT answers in Chinese)
    E_NOT_FOUND: "单据不存在",
    E_INVALID: "参数校验失败",
    E_DUPLICATE: "卖家订单号重复",
    E_STOCK: "库存不足",
    E_SKU: "商品不存在",
    E_WAREHOUSE: "仓库不存在",
    E_STATE: "单据状态不允许此操作",
    E_SYSTEM: "系统错误",
}

# SimError.code -> WINIT code
SIM_ERRORS = {
    "duplicate_reference": E_DUPLICATE, "unknown_sku": E_SKU, "unknown_warehouse": E_WAREHOUSE,
    "insufficient_stock": E_STOCK, "unknown_order": E_NOT_FOUND, "not_cancellable": E_STATE,
    "invalid_quantity": E_INVALID,
}

# sim order status -> (WINIT outbound status, statusName)
OUTBOUND_CODES = {
    "received": ("CF", "确认中"),  # no public source: assumed
    "picking": ("PK", "拣货中"),  # no public source: assumed
    "shipped": ("DLI", "已出库"),  # no public source: assumed
    "delivered": ("TSC", "派送完成"),  # no public source: assumed
    "cancelled": ("VO", "已作废"),  # no public source: assumed
    "exception": ("EX", "异常"),  # no public source: assumed
}

# sim event -> (eventCode, eventDescription, trace type: WH = in warehouse, LM = last mile)
TRACE_CODES = {
    "picked": ("WPK", "库内拣货完成", "WH"),  # no public source: assumed
    "shipped": ("WOB", "已出库，交付承运商", "WH"),  # noqa: RUF001 - no public source: assumed
    "info_received": ("CIR", "承运商已收到包裹信息", "LM"),  # no public source: assumed
    "in_transit": ("TRN", "运输中", "LM"),  # no public source: assumed
    "out_for_delivery": ("OFD", "派送中", "LM"),  # no public source: assumed
    "delivered": ("DLV", "已签收", "LM"),  # no public source: assumed
    "customs_delay": ("CUS", "清关延误", "LM"),  # no public source: assumed
    "delivery_delay": ("DLY", "派送延误", "LM"),  # no public source: assumed
    "failed_attempt": ("ATF", "派送未成功，收件人不在", "LM"),  # noqa: RUF001 - no public source: assumed
    "address_problem": ("ADE", "地址错误或不完整", "LM"),  # no public source: assumed
    "lost": ("LST", "包裹丢失", "LM"),  # no public source: assumed
    "damaged": ("DMG", "包裹破损", "LM"),  # no public source: assumed
    "returned_to_sender": ("RTS", "退回发件人", "LM"),  # no public source: assumed
}

SPLIT_NONE = "NONE"  # oswh/CreateOutboundOrderResponse.java splitType (不拆单)
SPLIT_WITHIN = "WW"  # oswh/CreateOutboundOrderResponse.java splitType (仓群内拆单)

# sim inbound status -> WINIT inbound status
INBOUND_CODES = {
    "created": "OD",  # oswh/OrderResponse.java (已下单)
    "received": "SHD",  # oswh/OrderResponse.java (已上架)
}
# sim return status -> WINIT return status
RETURN_CODES = {
    "created": "OD",  # no public source: assumed
    "received": "RE",  # no public source: assumed
    "inspected": "OC",  # no public source: assumed
    "cancelled": "CD",  # no public source: assumed
}
# sim grade -> merchandiseGrade (oswh/OutboundOrderProduct.java: GOOD 良品, DEFECTIVE 不良品)
GRADES = {"sellable": "GOOD", "unsellable": "DEFECTIVE"}

# The request fields each action's SDK class declares; anything else is refused.
FIELDS = {
    # oswh/CreateOutboundOrderPayload.java
    "createOutboundOrder": {"storeType", "doorplateNumbers", "address1", "address2", "city", "deliveryWayID",
                            "emailAddress", "phoneNum", "productList", "recipientName", "region", "repeatable",
                            "sellerOrderNo", "state", "warehouseID", "zipCode"},
    # oswh/OutboundOrderProduct.java
    "createOutboundOrder.productList": {"productCode", "productNum", "specification", "platformTransactionId",
                                        "platformItemId", "platformSellerId", "platformBuyerId"},
    "queryOutboundOrder": {"outboundOrderNum"},  # oswh/OutboundOrderNumPayload.java
    "voidOutboundOrder": {"outboundOrderNum"},  # oswh/OutboundOrderNumPayload.java
    # oswh/QueryOutboundOrderPayload.java
    "queryOutboundOrderList": {"outboundOrderNum", "warehouseId", "sellerOrderNo", "trackingNo", "receiverName",
                               "bookingOperator", "productValue", "productName", "productSku", "shareOrderType",
                               "dateOrderedStartDate", "dateOrderedEndDate", "status", "pageSize", "pageNum"},
    "tracking.getOrderVerdorTracking": {"trackingnos", "language"},  # oswh/OrderVerdorTrackingData.java
    # oswh/QueryWarehouseStorage.java
    "queryWarehouseStorage": {"warehouseID", "warehouseCode", "inReturnInventory", "isActive", "pageSize", "pageNum"},
    # oswh/QueryInventoryStatement.java
    "winit.inventory.pageInvInouts": {"skuCode", "specification", "warehouseCode", "docType", "startDate", "endDate",
                                      "pageVo"},
    "pageParams": {"pageNo", "pageSize"},  # PageParams.java
    # oswh/InboundOrderPayload.java
    "winit.wh.inbound.order.create": {"orderType", "winitProductCode", "destinationWarehouseCode", "sellerOrderNo",
                                      "inspectionWarehouseCode", "importDeclarationRuleCode", "exportDeclarationType",
                                      "importerCode", "exporterCode", "logisticsPlanNo", "stockType", "dispatchInfo",
                                      "packageList", "directForecastInfo", "sendPortInfo"},
    # oswh/InboundPackage.java
    "winit.wh.inbound.order.create.packageList": {"sellerCaseNo", "thirdPartyCaseNo", "sellerHeight", "sellerLength",
                                                  "sellerWidth", "sellerWeight", "merchandiseList"},
    # oswh/InboundMerchandiseList.java
    "winit.wh.inbound.order.create.merchandiseList": {"merchandiseCode", "quantity", "specification", "validDate"},
    # oswh/InboundOrderQueryParams.java
    "winit.wh.inbound.getOrderList": {"destinationWareHouseCode", "orderType", "inspectionWareHouseCode",
                                      "orderCreateDateEnd", "orderCreateDateStart", "pageParams", "winitProductCode"},
    "winit.wh.inbound.getOrderDetail": {"orderNo", "isIncludePackage"},  # oswh/OrderDetailQueryParams.java
    # oswh/ReturnGoodsOrderCreateData.java
    "rma.returnGoodsOrder.createReturnGoodsOrder": {
        "winitProductCode", "isWinitOutbound", "warehouseCode", "customerOrderNo", "outboundOrderNo", "userInfoSource",
        "expressNo", "VATNo", "name", "email", "phone", "country", "state", "houseNo", "city", "postcode", "address1",
        "address2", "packageLength", "packageWidth", "packageHeight", "packageWeight", "ReturnGoodsList"},
    # oswh/ReturnGood.java
    "rma.returnGoodsOrder.createReturnGoodsOrder.ReturnGoodsList": {
        "defectiveMethod", "goodMethod", "handleMethod", "itemCodeList", "productCode", "productNum", "specification"},
    # oswh/ReturnOderListQueryData.java
    "rma.returnGoodsOrder.queryReturnOderList": {
        "returnGoodsOrderNo", "expressNo", "outboundOrderNo", "rmaNo", "customerOrderNo", "destroyOutboundOrder",
        "originCode", "warehouseCode", "OderStartDatetime", "OderEndDatetime", "pageParams"},
}


def check_fields(data: dict, shape: str) -> dict:
    """Refuse a field the SDK class for ``shape`` does not declare; returns ``data``."""
    if not isinstance(data, dict):
        raise invalid(shape.rsplit(".", 1)[-1], "必须为JSON对象")
    for name in data:
        if name not in FIELDS[shape]:
            raise invalid(name, "不是该接口的参数")
    return data


SIGNED_FIELDS = ("action", "app_key", "data", "format", "platform", "sign_method", "timestamp", "version")


class WinitError(Exception):
    """Refusal answered as ``{"code": code, "msg": msg, "data": null}``."""

    def __init__(self, code: str, msg: str | None = None) -> None:
        super().__init__(msg or MESSAGES.get(code, ""))
        self.code = code
        self.msg = msg or MESSAGES.get(code, "")


def invalid(field: str, detail: str = "不能为空") -> WinitError:
    return WinitError(E_INVALID, f"[{field}]{detail}")


def _drop_nulls(value):
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def reserialise(data) -> str:
    """How the gateway turns the received ``data`` back into the string it signs (absent or null
    data signs as the empty string, as WINIT's own SDK does)."""
    if data is None:
        return ""
    return json.dumps(_drop_nulls(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def expected_sign(secret: str, body: dict) -> str:
    text = secret
    for name in SIGNED_FIELDS:
        value = reserialise(body.get("data")) if name == "data" else str(body.get(name, ""))
        text += name + value
    text += secret
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def bj_time(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def bj_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d")


def parse_bj(text: str, field: str, *, date_only: bool = False) -> float:
    fmt = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S"
    try:
        return datetime.strptime(str(text), fmt).replace(tzinfo=BEIJING).timestamp()
    except (TypeError, ValueError) as exc:
        raise invalid(field, f"格式应为{'yyyy-MM-dd' if date_only else 'yyyy-MM-dd HH:mm:ss'}") from exc


def require(data: dict, field: str):
    value = data.get(field)
    if value is None or value == "" or value == []:
        raise invalid(field)
    return value


def as_int(data: dict, field: str, *, default: int | None = None, minimum: int | None = None) -> int:
    value = data.get(field)
    if value in (None, ""):
        if default is None:
            raise invalid(field)
        return default
    try:
        number = int(str(value))
    except ValueError as exc:
        raise invalid(field, "必须为整数") from exc
    if minimum is not None and number < minimum:
        raise invalid(field, f"必须>={minimum}")
    return number
