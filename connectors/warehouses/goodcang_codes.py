"""Goodcang's codes as :mod:`connectors.warehouses.goodcang` reads them, each line with its source.

Goodcang publishes no OpenAPI document. ``sdk:`` below is the public Java SDK
``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/`` (its classes link
each call to ``https://open.goodcang.com/docs_api/<module>/<action>``). A line that says
"no public source: assumed" is this project's assumption; the connector treats any value missing
from these tables safely (reported through ``BaseProvider._unknown``, read conservatively).
"""

from __future__ import annotations

import re

from integration.domain.warehousing import ExceptionReason, InboundStatus, OutboundStatus, TrackingStatus

# -- envelopes ---------------------------------------------------------------------------------
ASK_SUCCESS = "Success"  # sdk:ResponseAsk.java isSuccess(): "Success".equals(ask)
CODE_SUCCESS = "1"  # sdk:ResponseAsk.java isSuccess(): 1 == code (the "v2" envelope)

# -- outbound orders: "order_status" of sdk:warehouse/Order.java ---------------------------------
# Goodcang has no picking/packed stage and keeps a delivered parcel at "D"; the provider upgrades
# D to DELIVERED from the tracking.
ORDER_STATUS: dict[str, OutboundStatus] = {
    "C": OutboundStatus.RECEIVED,  # sdk:warehouse/DraftOrderListPayload.java "C:待发货审核"
    "H": OutboundStatus.RECEIVED,  # sdk:warehouse/DraftOrderListPayload.java "H:暂存"
    "W": OutboundStatus.RECEIVED,  # sdk:warehouse/OrderListPayload.java "W:待发货"
    "D": OutboundStatus.SHIPPED,  # sdk:warehouse/OrderListPayload.java "D:已发货"
    "N": OutboundStatus.EXCEPTION,  # sdk:warehouse/OrderListPayload.java "N:异常订单"
    "P": OutboundStatus.EXCEPTION,  # sdk:warehouse/OrderListPayload.java "P:问题件"
    "X": OutboundStatus.CANCELLED,  # sdk:warehouse/OrderListPayload.java "X:废弃"
}
SHIPPED_STATUS = "D"  # sdk:warehouse/OrderListPayload.java "D:已发货"
DISCARDED_STATUS = "X"  # sdk:warehouse/OrderListPayload.java "X:废弃"
CANCEL_DONE = "2"  # sdk:warehouse/CancelOrderResponse.java isSuccess(): cancel_status == 2

# -- tracking: "code" of sdk:warehouse/TrajectoryItem.java ("轨迹代码"; the SDK lists no values) -----
TRACKING_CODES: dict[str, tuple[TrackingStatus, ExceptionReason | None]] = {
    "TMS_NTI": (TrackingStatus.PENDING, None),  # no public source: assumed (查无轨迹)
    "TMS_OC": (TrackingStatus.INFO_RECEIVED, None),  # no public source: assumed (订单创建)
    "TMS_AS": (TrackingStatus.INFO_RECEIVED, None),  # no public source: assumed (预上网)
    "TMS_PU": (TrackingStatus.IN_TRANSIT, None),  # no public source: assumed (揽件完毕)
    "TMS_IT": (TrackingStatus.IN_TRANSIT, None),  # no public source: assumed (运输中)
    "TMS_OD": (TrackingStatus.OUT_FOR_DELIVERY, None),  # no public source: assumed (派送中)
    "TMS_WPU": (TrackingStatus.AVAILABLE_FOR_PICKUP, None),  # no public source: assumed (待自提)
    "TMS_DF": (TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),  # no public source: assumed
    "TMS_EXCP": (TrackingStatus.EXCEPTION, None),  # no public source: assumed (轨迹异常)
    "TMS_RT": (TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER),  # no public source: assumed
    "TMS_FD": (TrackingStatus.DELIVERED, None),  # no public source: assumed (派送完毕)
    "TMS_YD": (TrackingStatus.DELIVERED, None),  # no public source: assumed (预签收)
    "TMS_UN": (TrackingStatus.IN_TRANSIT, None),  # no public source: assumed (无法匹配)
    "TMS_NP": (TrackingStatus.IN_TRANSIT, None),  # no public source: assumed (未变化)
}

# TMS_EXCP and codes we do not know: the carrier's own text tells which exception (first match).
EXCEPTION_KEYWORDS: tuple[tuple[tuple[str, ...], ExceptionReason], ...] = (
    (("customs", "clearance", "海关", "清关"), ExceptionReason.CUSTOMS_DELAY),
    (("address", "地址"), ExceptionReason.ADDRESS_PROBLEM),
    (("lost", "missing", "丢失", "遗失"), ExceptionReason.LOST),
    (("damage", "破损", "损坏"), ExceptionReason.DAMAGED),
    (("return to sender", "returned to sender", "退回"), ExceptionReason.RETURNED_TO_SENDER),
    (("attempt", "not available", "未遂", "不在家"), ExceptionReason.FAILED_ATTEMPT),
    (("delay", "延误", "延迟"), ExceptionReason.DELIVERY_DELAY),
)

# -- stock: sdk:warehouse/ProductInventory.java "product_freeze_status" (the SDK lists no values) -
FREEZE_STATUS = {
    "0": False,  # no public source: assumed (not frozen)
    "1": True,  # no public source: assumed (frozen: nothing of the SKU may be sold)
}

# -- inbound and returns (Integer codes; the SDK lists no values) --------------------------------
GRN_STATUS = {  # sdk:warehouse/GrnInfo.java "receiving_status"
    "0": "draft",  # no public source: assumed
    "1": "submitted",  # no public source: assumed
    "5": "received",  # no public source: assumed
}
INBOUND_STATES = {  # those words -> the domain's InboundStatus (no in-transit code is known)
    "draft": InboundStatus.CREATED, "submitted": InboundStatus.CREATED, "received": InboundStatus.RECEIVED,
}
RETURN_STATUS = {  # sdk:warehouse/ReturnOrder.java "asro_status"; codes: Goodcang doc "RESTFUL V1退货单查询"
    "0": "draft",  # 草稿
    "1": "submitted",  # 已提交
    "4": "received",  # 收货完成
    "5": "processed",  # 处理完成
    "6": "discarded",  # 废弃
    "7": "processing",  # 处理中
}

# -- failures: "Error.errCode" of sdk:Error.java (a String; the SDK has no code dictionary) -------
DUPLICATE_CODES = {
    "10102001",  # no public source: assumed (product_sku exists)
    "10103001",  # no public source: assumed (order reference_no exists)
    "10104001",  # no public source: assumed (GRN reference_no exists)
    "10105001",  # no public source: assumed (return ref_no exists)
}
AUDITED_CODES = {"10102002"}  # no public source: assumed (product audited, not editable)
DISCARDED_CODES = {"10103099"}  # no public source: assumed (订单已废弃)
NOT_FOUND_CODES = {"10103086"}  # no public source: assumed ("no data")
AUTH_CODES = {"401"}  # no public source: assumed
THROTTLE_CODES = {"403", "429"}  # no public source: assumed
VALIDATION_CODES = {
    "10100001",  # no public source: assumed (body not JSON)
    "10100002",  # no public source: assumed (field required)
    "10100003",  # no public source: assumed (field invalid)
    "10100004",  # no public source: assumed (date span too long)
    "10102003",  # no public source: assumed (product unknown)
    "10103002",  # no public source: assumed (SKU unknown)
    "10103003",  # no public source: assumed (warehouse unknown)
    "10103004",  # no public source: assumed (insufficient stock)
    "10103005",  # no public source: assumed (order shipped, not cancellable)
    "10103006",  # no public source: assumed (shipping method unavailable)
    "404", "405", "500",  # no public source: assumed (gateway answers)
}
KNOWN_ERROR_CODES = (DUPLICATE_CODES | AUDITED_CODES | DISCARDED_CODES | NOT_FOUND_CODES | AUTH_CODES
                     | THROTTLE_CODES | VALIDATION_CODES)

# Message patterns back the assumed codes up (no public source: assumed wording).
DUPLICATE_RE = re.compile(r"已存在|重复|already exist|duplicate", re.IGNORECASE)
AUDITED_RE = re.compile(r"已审核|audited", re.IGNORECASE)
AUTH_RE = re.compile(r"app-?token|app-?key|token.*(invalid|错误|无效)|鉴权|认证失败", re.IGNORECASE)
THROTTLE_RE = re.compile(r"频繁|限流|too many|rate limit|frequency", re.IGNORECASE)
BUSY_RE = re.compile(r"系统繁忙|system busy|稍后重试|try again later", re.IGNORECASE)
FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*(?:不能为空|格式错误|无效|is required|is invalid)")
