"""WINIT (万邑通) code tables, each line with its source, and the error mapping.

Sources: the public Java SDK EalenXie/sdk-all, module winit-sdk (paths below are relative to
``winit-sdk/src/main/java/io/github/ealenxie/winit/``), which links each action to WINIT's
developer documentation (developer.winit.com.cn/document/detail/id/N). WINIT publishes no
dictionary of outbound status codes, tracking event codes or error codes that we could find:
those lines say "no public source: assumed". The connector reads any value missing from these
tables the safe way (never shipped, never delivered, never more stock) and reports it through
``BaseProvider._unknown`` so a person adds the line.
"""

from __future__ import annotations

import re

from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from integration.domain.warehousing import ExceptionReason, InboundStatus, OutboundStatus, TrackingStatus

SYSTEM = "winit"

# -- errors ----------------------------------------------------------------------------------
OK = "0"  # WinitResponse.java: isOk() is code "0" (or msg 操作成功)
NOT_FOUND = "400006"  # no public source: assumed (单据不存在)
THROTTLED = "400005"  # no public source: assumed (请求过于频繁)
DUPLICATE = "400008"  # no public source: assumed; never the only idempotency signal (see winit.py)
ERROR_CODES: dict[str, tuple[str, str | None]] = {
    "400001": ("auth", None),  # no public source: assumed (签名错误)
    "400002": ("auth", "app_key"),  # no public source: assumed (app_key 不存在或未授权)
    "400003": ("permanent", "timestamp"),  # no public source: assumed (时间戳无效或已过期)
    "400004": ("permanent", "action"),  # no public source: assumed (action 不存在)
    THROTTLED: ("retry", None),  # no public source: assumed
    NOT_FOUND: ("not_found", None),  # no public source: assumed
    "400007": ("permanent", None),  # no public source: assumed (参数校验失败: [field]…)
    DUPLICATE: ("duplicate", None),  # no public source: assumed (卖家订单号重复 / 已生成退货订单)
    "400009": ("permanent", "lines"),  # no public source: assumed (库存不足)
    "400010": ("permanent", "productCode"),  # no public source: assumed (商品不存在)
    "400011": ("permanent", "warehouse_code"),  # no public source: assumed (仓库不存在)
    "400012": ("permanent", "status"),  # no public source: assumed (单据状态不允许此操作)
    "500000": ("retry", None),  # no public source: assumed (系统错误)
}
# WINIT request field names (SDK payload classes) -> our domain's, for PermanentError.field.
FIELD_NAMES = {
    "recipientName": "ship_to.name", "phoneNum": "ship_to.phone", "zipCode": "ship_to.zip",
    "state": "ship_to.country_code", "region": "ship_to.province", "city": "ship_to.city",
    "address1": "ship_to.address1", "address2": "ship_to.address2", "emailAddress": "email",
    "productCode": "lines.sku", "productNum": "lines.quantity", "merchandiseCode": "lines.sku",
    "quantity": "lines.quantity", "warehouseID": "warehouse_code", "warehouseCode": "warehouse_code",
    "destinationWarehouseCode": "warehouse_code", "sellerOrderNo": "reference",
    "customerOrderNo": "reference", "deliveryWayID": "shipping_service", "englishName": "title",
}
_FIELD_IN_MSG = re.compile(r"^\[([A-Za-z_][\w.]*)\]")  # no public source: assumed message shape


class WinitDuplicateError(PermanentError):
    """WINIT says the seller order number exists (assumed code; confirmed by a lookup)."""


class WinitNotFoundError(PermanentError):
    """WINIT has no document with that number."""


def error_for(code: str, msg: str, *, operation: str) -> ConnectorError:
    """The connector error for a non-"0" answer; an unknown code is a PermanentError carrying it
    (the caller looks the document up by our reference before giving up on a create)."""
    kind, field = ERROR_CODES.get(code, ("permanent", None))
    match = _FIELD_IN_MSG.match(msg or "")
    if match:
        field = match.group(1)
    field = FIELD_NAMES.get(field, field) if field else None
    text = f"WINIT {code}: {msg}"
    if kind == "auth":
        return AuthError(text, field=field, code=code, system=SYSTEM, operation=operation)
    if kind == "retry":
        throttled = code == THROTTLED  # turned away before it ran
        return RetryableError(text, retry_after=1.0 if throttled else None, system=SYSTEM, operation=operation,
                              refused=throttled)
    if kind == "duplicate":
        return WinitDuplicateError(text, field="reference", code=code, system=SYSTEM, operation=operation)
    if kind == "not_found":
        return WinitNotFoundError(text, field="reference", code=code, system=SYSTEM, operation=operation)
    return PermanentError(text, field=field, code=code, system=SYSTEM, operation=operation)


# -- createOutboundOrder splitType (oswh/CreateOutboundOrderResponse.java) ---------------------
SPLIT_TYPES = {
    "NONE": "not split",  # oswh/CreateOutboundOrderResponse.java (不拆单)
    "WW": "split within a warehouse group",  # oswh/CreateOutboundOrderResponse.java (仓群内拆单)
    "BW": "split between warehouse groups",  # oswh/CreateOutboundOrderResponse.java (仓群间拆单)
}

# -- outbound order status (OutboundOrderInfoResponse.status has no code list in the SDK) -----
OUTBOUND_STATUS: dict[str, OutboundStatus] = {
    "DR": OutboundStatus.RECEIVED,  # no public source: assumed (草稿)
    "CF": OutboundStatus.RECEIVED,  # no public source: assumed (确认中)
    "PK": OutboundStatus.PICKING,  # no public source: assumed (拣货中)
    "PC": OutboundStatus.PACKED,  # no public source: assumed (已打包)
    "DLI": OutboundStatus.SHIPPED,  # no public source: assumed (已出库)
    "TSC": OutboundStatus.DELIVERED,  # no public source: assumed (派送完成)
    "VO": OutboundStatus.CANCELLED,  # no public source: assumed (已作废)
    "EX": OutboundStatus.EXCEPTION,  # no public source: assumed (异常)
}

# -- tracking.getOrderVerdorTracking trace[].eventCode (oswh/Trace.java has the field, no list) -
TRACKING_CODES: dict[str, tuple[TrackingStatus, ExceptionReason | None]] = {
    "WPK": (TrackingStatus.PENDING, None),  # no public source: assumed (库内拣货完成)
    "WOB": (TrackingStatus.INFO_RECEIVED, None),  # no public source: assumed (已出库)
    "CIR": (TrackingStatus.INFO_RECEIVED, None),  # no public source: assumed (承运商已收到包裹信息)
    "TRN": (TrackingStatus.IN_TRANSIT, None),  # no public source: assumed (运输中)
    "OFD": (TrackingStatus.OUT_FOR_DELIVERY, None),  # no public source: assumed (派送中)
    "DLV": (TrackingStatus.DELIVERED, None),  # no public source: assumed (已签收)
    "PUP": (TrackingStatus.AVAILABLE_FOR_PICKUP, None),  # no public source: assumed (待自提)
    "EXP": (TrackingStatus.EXPIRED, None),  # no public source: assumed (轨迹过期)
    "CUS": (TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),  # no public source: assumed
    "DLY": (TrackingStatus.EXCEPTION, ExceptionReason.DELIVERY_DELAY),  # no public source: assumed
    "ATF": (TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),  # no public source: assumed
    "ADE": (TrackingStatus.EXCEPTION, ExceptionReason.ADDRESS_PROBLEM),  # no public source: assumed
    "LST": (TrackingStatus.EXCEPTION, ExceptionReason.LOST),  # no public source: assumed
    "DMG": (TrackingStatus.EXCEPTION, ExceptionReason.DAMAGED),  # no public source: assumed
    "RTS": (TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER),  # no public source: assumed
}
# An event code we do not know is read as in transit: never delivered, never a false alarm.
UNKNOWN_TRACKING = (TrackingStatus.IN_TRANSIT, None)

# -- return (RMA) status (oswh/ReturnOrder.java has the field, no list) ------------------------
RETURN_STATUS = {
    "PD": "draft",  # no public source: assumed
    "OD": "ordered",  # no public source: assumed
    "RE": "received",  # no public source: assumed
    "WP": "pending",  # no public source: assumed
    "OC": "completed",  # no public source: assumed
    "DT": "destroyed",  # no public source: assumed
    "CD": "cancelled",  # no public source: assumed
}

# -- inbound order status (oswh/OrderResponse.java documents every code) ----------------------
INBOUND_STATUS = {
    "DR": "draft",  # oswh/OrderResponse.java (草稿)
    "OD": "created",  # oswh/OrderResponse.java (已下单)
    "RE": "received_for_inspection",  # oswh/OrderResponse.java (已收货, domestic inspection)
    "IC": "inspected",  # oswh/OrderResponse.java (验货完成)
    "TS": "in_transit",  # oswh/OrderResponse.java (运输中)
    "PEWC": "partly_arrived",  # oswh/OrderResponse.java (部分到仓)
    "EWC": "arrived",  # oswh/OrderResponse.java (已到仓)
    "SHD": "received",  # oswh/OrderResponse.java (已上架)
    "VO": "cancelled",  # oswh/OrderResponse.java (作废)
    "STOP": "stopped",  # oswh/OrderResponse.java (终止)
}
# those words -> the domain's InboundStatus: collected or inspected at origin counts as on its way
INBOUND_STATES = {
    "draft": InboundStatus.CREATED, "created": InboundStatus.CREATED,
    "received_for_inspection": InboundStatus.IN_TRANSIT, "inspected": InboundStatus.IN_TRANSIT,
    "in_transit": InboundStatus.IN_TRANSIT, "partly_arrived": InboundStatus.IN_TRANSIT,
    "arrived": InboundStatus.IN_TRANSIT, "received": InboundStatus.RECEIVED,
    "cancelled": InboundStatus.CANCELLED, "stopped": InboundStatus.CANCELLED,
}
