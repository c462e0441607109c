"""WINIT (万邑通) open API: request signing, Beijing time, code tables and payload mapping.

Pure functions; :mod:`connectors.warehouses.winit` does the HTTP. Sources for the protocol facts
are listed in that module's docstring. Where WINIT's published material is silent (error codes,
outbound status codes, tracking event codes) the tables below are our assumption and are marked so:
they are the single place to correct once the vendor's dictionary is at hand.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from integration.domain.warehousing import (
    ExceptionReason,
    InboundRequest,
    Line,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    Package,
    ReturnRequest,
    SkuSpec,
    StockRecord,
    TrackingEvent,
    TrackingStatus,
)

SYSTEM = "winit"

# -- signing ---------------------------------------------------------------------------------
# developer.winit.com.cn/document/detail/id/6 ("签名认证"): sign = upper(md5(token + name1value1 +
# ... + token)) over these fields in this (alphabetical) order; language, client_id, sign and
# client_sign are not signed. client_sign is the same string wrapped in the client_secret.
SIGNED_FIELDS = ("action", "app_key", "data", "format", "platform", "sign_method", "timestamp", "version")


def strip_nulls(value):
    """Drop None values from every mapping, recursively (WINIT's JSON library omits nulls when it
    re-serialises ``data`` to check the sign, so a signed null can never match)."""
    if isinstance(value, Mapping):
        return {str(key): strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [strip_nulls(item) for item in value]
    return value


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable for WINIT")


def canonical_data(data) -> str:
    """``data`` exactly as it is signed and sent: keys sorted at every level, no nulls, no spaces,
    UTF-8 characters unescaped (the published clients sort recursively and keep Chinese as is)."""
    return json.dumps(strip_nulls({} if data is None else data), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=_json_default)


def sign_plaintext(secret: str, fields: Mapping[str, str]) -> str:
    return secret + "".join(f"{name}{fields[name]}" for name in SIGNED_FIELDS) + secret


def sign(secret: str, fields: Mapping[str, str]) -> str:
    """Upper-case hex MD5 of the plaintext (``fields['data']`` is the canonical JSON string)."""
    digest = hashlib.md5(sign_plaintext(secret, fields).encode("utf-8"), usedforsecurity=False)
    return digest.hexdigest().upper()


# -- time ------------------------------------------------------------------------------------
# WINIT's request timestamp and every time it answers are system time in Beijing (UTC+8, no DST):
# clients format "yyyy-MM-dd HH:mm:ss" from local China time, and the SDK models declare
# ``@JsonFormat(timezone = "GMT+8")`` (e.g. inventory ledger changeDate).
BEIJING = timezone(timedelta(hours=8), "CST")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


def format_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def format_date(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(DATE_FORMAT)


def parse_time(value) -> datetime | None:
    """A WINIT time string (Beijing) as aware UTC; None for empty values."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace("T", " ")
    for fmt in (TIME_FORMAT, DATE_FORMAT):
        try:
            return datetime.strptime(text[:19], fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
    return None


# -- errors ----------------------------------------------------------------------------------
# Envelope: {"code": "0", "msg": "操作成功", "data": ...}; any other code is an error. "0" and the
# envelope are confirmed; "400006" (document not found) is seen in a public client; the rest of
# this table is our assumption (see the report). Validation messages name the field as "[field]…".
OK = "0"
DUPLICATE = "400008"
NOT_FOUND = "400006"
THROTTLED = "400005"
ERROR_CODES: dict[str, tuple[str, str | None]] = {
    "400001": ("auth", None),  # 签名错误 (sign / client_sign mismatch)
    "400002": ("auth", "app_key"),  # app_key 不存在或未授权 (also wrong platform / client_id)
    "400003": ("permanent", "timestamp"),  # 时间戳无效或已过期 (our clock is off: retrying won't help)
    "400004": ("permanent", "action"),  # action 不存在
    THROTTLED: ("retry", None),  # 请求过于频繁
    NOT_FOUND: ("not_found", None),  # 单据不存在
    "400007": ("permanent", None),  # 参数校验失败: [field]…
    DUPLICATE: ("duplicate", None),  # 卖家订单号重复 / 已生成退货订单
    "400009": ("permanent", "lines"),  # 库存不足
    "400010": ("permanent", "productCode"),  # 商品不存在
    "400011": ("permanent", "warehouse_code"),  # 仓库不存在
    "400012": ("permanent", "status"),  # 单据状态不允许此操作 (e.g. void after outbound)
    "500000": ("retry", None),  # 系统错误
}
# WINIT field names -> our domain's, for PermanentError.field.
FIELD_NAMES = {
    "recipientName": "ship_to.name", "phoneNum": "ship_to.phone", "zipCode": "ship_to.zip",
    "state": "ship_to.country_code", "region": "ship_to.province", "city": "ship_to.city",
    "address1": "ship_to.address1", "address2": "ship_to.address2", "emailAddress": "email",
    "productCode": "lines.sku", "productNum": "lines.quantity", "merchandiseCode": "lines.sku",
    "quantity": "lines.quantity", "warehouseID": "warehouse_code", "warehouseCode": "warehouse_code",
    "destinationWarehouseCode": "warehouse_code", "sellerOrderNo": "reference",
    "customerOrderNo": "reference", "deliveryWayID": "shipping_service", "englishName": "title",
}
_FIELD_IN_MSG = re.compile(r"^\[([A-Za-z_][\w.]*)\]")


class WinitDuplicateError(PermanentError):
    """The seller order number already exists (our idempotency signal)."""


class WinitNotFoundError(PermanentError):
    """WINIT has no document with that number."""


def error_for(code: str, msg: str, *, operation: str) -> ConnectorError:
    kind, field = ERROR_CODES.get(code, ("permanent", None))
    match = _FIELD_IN_MSG.match(msg or "")
    if match:
        field = match.group(1)
    field = FIELD_NAMES.get(field, field) if field else None
    text = f"WINIT {code}: {msg}"
    if kind == "auth":
        return AuthError(text, field=field, code=code, system=SYSTEM, operation=operation)
    if kind == "retry":
        return RetryableError(text, retry_after=1.0 if code == THROTTLED else None, system=SYSTEM,
                              operation=operation)
    if kind == "duplicate":
        return WinitDuplicateError(text, field="reference", code=code, system=SYSTEM, operation=operation)
    if kind == "not_found":
        return WinitNotFoundError(text, field="reference", code=code, system=SYSTEM, operation=operation)
    return PermanentError(text, field=field, code=code, system=SYSTEM, operation=operation)


# -- status tables (assumed codes; "EX" = 异常 and "CF" = 确认中 are in public material) ---------
OUTBOUND_STATUS: dict[str, OutboundStatus] = {
    "DR": OutboundStatus.RECEIVED,  # 草稿
    "CF": OutboundStatus.RECEIVED,  # 确认中: createOutboundOrder submits straight to this state
    "PK": OutboundStatus.PICKING,  # 拣货中
    "PC": OutboundStatus.PACKED,  # 已打包
    "DLI": OutboundStatus.SHIPPED,  # 已出库 (handed to the last-mile carrier)
    "TSC": OutboundStatus.DELIVERED,  # 派送完成
    "VO": OutboundStatus.CANCELLED,  # 已作废
    "EX": OutboundStatus.EXCEPTION,  # 异常 (void / failed sub-package)
}

# tracking.getOrderVerdorTracking trace[].eventCode -> (status, reason). In-warehouse events first.
TRACKING_CODES: dict[str, tuple[TrackingStatus, ExceptionReason | None]] = {
    "WPK": (TrackingStatus.PENDING, None),  # 库内拣货完成
    "WOB": (TrackingStatus.INFO_RECEIVED, None),  # 已出库, handed to carrier
    "CIR": (TrackingStatus.INFO_RECEIVED, None),  # 承运商已收到包裹信息
    "TRN": (TrackingStatus.IN_TRANSIT, None),  # 运输中
    "OFD": (TrackingStatus.OUT_FOR_DELIVERY, None),  # 派送中
    "DLV": (TrackingStatus.DELIVERED, None),  # 已签收
    "PUP": (TrackingStatus.AVAILABLE_FOR_PICKUP, None),  # 待自提
    "EXP": (TrackingStatus.EXPIRED, None),  # 轨迹过期
    "CUS": (TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),  # 清关延误
    "DLY": (TrackingStatus.EXCEPTION, ExceptionReason.DELIVERY_DELAY),  # 派送延误
    "ATF": (TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),  # 派送未成功
    "ADE": (TrackingStatus.EXCEPTION, ExceptionReason.ADDRESS_PROBLEM),  # 地址问题
    "LST": (TrackingStatus.EXCEPTION, ExceptionReason.LOST),  # 包裹丢失
    "DMG": (TrackingStatus.EXCEPTION, ExceptionReason.DAMAGED),  # 包裹破损
    "RTS": (TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER),  # 退回发件人
}

# rma.returnGoodsOrder status codes (published in a public client's doc comment).
RETURN_STATUS = {"PD": "draft", "OD": "ordered", "RE": "received", "WP": "pending", "OC": "completed",
                 "DT": "destroyed", "CD": "cancelled"}


# -- requests --------------------------------------------------------------------------------
def _cm(mm: int | None) -> str | None:
    return None if mm is None else str((Decimal(mm) / 10).normalize())


def product_payload(spec: SkuSpec) -> dict:
    """registerProduct (注册/编辑商品): one product; weights in g, dimensions in cm, values in USD."""
    usd = spec.declared_value if (spec.currency or "USD").upper() == "USD" else None
    return {"productList": [{
        "productCode": spec.sku, "englishName": spec.title,
        "registeredWeight": None if spec.weight_g is None else str(spec.weight_g),
        "registeredLength": _cm(spec.length_mm), "registeredWidth": _cm(spec.width_mm),
        "registeredHeight": _cm(spec.height_mm), "fixedVolumeWeight": "Y", "branded": "N",
        "exportDeclaredvalue": None if usd is None else str(usd), "exportCountry": spec.origin_country,
        "remark": None if spec.barcode is None else f"barcode {spec.barcode}",
    }]}


def outbound_payload(request: OutboundRequest, *, warehouse_id, delivery_way_id) -> dict:
    """createOutboundOrder (developer doc id/49): submitted straight to 确认中; ``repeatable: N``
    makes WINIT refuse a second order with the same sellerOrderNo (our idempotency key)."""
    to = request.ship_to
    return {
        "warehouseID": str(warehouse_id), "deliveryWayID": str(delivery_way_id), "repeatable": "N",
        "sellerOrderNo": request.reference, "recipientName": to.full_name, "phoneNum": to.phone,
        "emailAddress": request.email, "state": to.country_code, "region": to.province_code or to.province,
        "city": to.city, "zipCode": to.zip, "address1": to.address1, "address2": to.address2,
        "productList": [{"productCode": line.sku, "productNum": str(line.quantity)} for line in request.lines],
    }


def inbound_payload(request: InboundRequest, *, product_code: str) -> dict:
    """winit.wh.inbound.order.create (id/141) as a DW order (seller ships direct, inspected at the
    destination warehouse), one case holding every line."""
    forecast = None
    if request.expected_at is not None:
        forecast = {"expectedSendWarehouseTime": format_time(request.expected_at),
                    "expectedSendWarehouseWay": "Express", "transportAgent": request.carrier}
    return {
        "orderType": "DW", "winitProductCode": product_code, "sellerOrderNo": request.reference,
        "destinationWarehouseCode": request.warehouse_code, "inspectionWarehouseCode": request.warehouse_code,
        "directForecastInfo": forecast,
        "packageList": [{"sellerCaseNo": "1", "thirdPartyCaseNo": request.tracking_number, "merchandiseList": [
            {"merchandiseCode": line.sku, "quantity": str(line.quantity)} for line in request.lines]}],
    }


def return_payload(request: ReturnRequest, *, outbound_no: str, warehouse_code: str,
                   product_code: str | None) -> dict:
    """rma.returnGoodsOrder.createReturnGoodsOrder (id/151) for goods of a WINIT outbound order;
    buyer data taken from the original order (userInfoSource ORI), no return label."""
    return {
        "customerOrderNo": request.reference, "isWinitOutbound": "Y", "outboundOrderNo": outbound_no,
        "warehouseCode": warehouse_code, "userInfoSource": "ORI", "isReturnLabel": "N",
        "winitProductCode": product_code,
        "ReturnGoodsList": [{"productCode": line.sku, "productNum": str(line.quantity), "handleMethod": "SA",
                             "shelveMethod": "GOOD_SA"} for line in request.lines],
    }


# -- responses -------------------------------------------------------------------------------
def to_int(value, default: int = 0) -> int:
    try:
        return int(Decimal(str(value)))
    except (ArithmeticError, ValueError, TypeError):
        return default


def _lines(items) -> tuple[Line, ...]:
    return tuple(Line(str(item.get("productCode")), to_int(item.get("productNum")))
                 for item in items or () if item.get("productCode"))


def parse_outbound(reference: str, row: Mapping) -> Outbound:
    """queryOutboundOrder (id/55) ``data.list[0]`` -> Outbound."""
    code = str(row.get("status") or "")
    status = OUTBOUND_STATUS.get(code, OutboundStatus.RECEIVED)
    packages: list[Package] = []
    for pkg in row.get("packageList") or ():
        for number in pkg.get("trackingNos") or ():
            packages.append(Package(
                tracking_number=str(number), carrier=pkg.get("carrier") or row.get("carrier"),
                lines=_lines(pkg.get("merchandiseList")),
                shipped_at=parse_time(pkg.get("outboundDate") or row.get("outboundDate"))))
    if not packages and row.get("trackingNum"):
        packages.append(Package(str(row["trackingNum"]), carrier=row.get("carrier"),
                                shipped_at=parse_time(row.get("outboundDate"))))
    times = [parse_time(row.get(key)) for key in ("orderedTime", "outboundDate", "actualFinishTime", "updateTime")]
    error = row.get("reasonForVoid") or row.get("errorMsg") or None
    if code not in OUTBOUND_STATUS:
        error = f"unknown WINIT status {code!r}"
    return Outbound(
        reference=reference, external_id=str(row.get("outboundOrderNum") or row.get("documentNo")),
        status=status, warehouse_code=row.get("warehouseCode"), packages=tuple(packages),
        updated_at=max((t for t in times if t), default=None), error=error)


def parse_stock(row: Mapping, warehouse_code: str, as_of: datetime) -> StockRecord:
    """queryWarehouseStorage (id/44) list row: inventory = on hand, reservedInventory = allocated
    to open orders, pipelineInventory = on its way in; available = inventory - reserved."""
    on_hand, reserved = to_int(row.get("inventory")), to_int(row.get("reservedInventory"))
    return StockRecord(sku=str(row.get("productCode")), warehouse_code=warehouse_code, on_hand=on_hand,
                       available=max(on_hand - reserved, 0), reserved=reserved,
                       inbound=to_int(row.get("pipelineInventory")), as_of=as_of)


def parse_tracking(entries, fallback_number: str) -> list[TrackingEvent]:
    """tracking.getOrderVerdorTracking (id/56) entries -> events, oldest first."""
    events: list[TrackingEvent] = []
    for entry in entries or ():
        number = entry.get("trackingNo") or fallback_number
        for trace in entry.get("trace") or ():
            occurred = parse_time(trace.get("date"))
            if occurred is None:
                continue
            code = str(trace.get("eventCode") or "")
            # An unknown code is kept as in-transit (never a false alarm); raw_code keeps it for support.
            status, reason = TRACKING_CODES.get(code, (TrackingStatus.IN_TRANSIT, None))
            events.append(TrackingEvent(
                tracking_number=str(number), status=status, occurred_at=occurred, reason=reason,
                description=str(trace.get("eventDescription") or ""), location=trace.get("location") or None,
                carrier=entry.get("carrier") or None, raw_code=code or None))
    events.sort(key=lambda event: event.occurred_at)
    return events


def country_of(row: Mapping) -> str | None:
    """queryWarehouse gives no country field: take an ISO code ending the address, else the code's
    prefix (WINIT codes start with the country: DE0001, UKMA, USWC, AU...)."""
    tail = str(row.get("warehouseAddress") or "").replace(",", " ").split()
    if tail and re.fullmatch(r"[A-Z]{2}", tail[-1]):
        return tail[-1]
    prefix = str(row.get("warehouseCode") or "")[:2].upper()
    if re.fullmatch(r"[A-Z]{2}", prefix):
        return "GB" if prefix == "UK" else prefix
    return None


EU = {"AT", "BE", "CZ", "DE", "DK", "ES", "FR", "IT", "NL", "PL", "PT", "SE", "IE", "HU", "SK"}


def region_of(country: str | None) -> str | None:
    if country in EU:
        return "EU"
    return country
