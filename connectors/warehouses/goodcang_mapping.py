"""Goodcang <-> domain translation for :mod:`connectors.warehouses.goodcang`: Beijing time, the
order-status and tracking-code tables, request payloads, answer parsing and error classification.

Goodcang answers every time in Beijing time (UTC+8, China has no DST) as ``YYYY-MM-DD HH:MM:SS``
and expects the same in requests; ``0000-00-00 00:00:00`` means "not yet". Pages cited are under
``https://open.goodcang.com/docs_api/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from connectors.errors import AuthError, PermanentError, RetryableError
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
    WarehouseSite,
)

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
SYSTEM = "goodcang"

# order/get_order_by_code "order_status". Goodcang has no picking/packed stage and keeps a
# delivered parcel at "D"; the provider upgrades D to DELIVERED from the tracking (TMS_FD).
ORDER_STATUS: dict[str, OutboundStatus] = {
    "C": OutboundStatus.RECEIVED,  # 待发货审核: created, awaiting review
    "H": OutboundStatus.RECEIVED,  # 暂存: held as a draft
    "W": OutboundStatus.RECEIVED,  # 待发货: released to the warehouse, not shipped yet
    "D": OutboundStatus.SHIPPED,  # 已发货
    "N": OutboundStatus.EXCEPTION,  # 异常订单
    "P": OutboundStatus.EXCEPTION,  # 问题件
    "X": OutboundStatus.CANCELLED,  # 废弃
}

# order/batch_query_tracking_status "code" (Goodcang's TMS track codes, 轨迹代码映射).
TRACKING_CODES: dict[str, tuple[TrackingStatus, ExceptionReason | None]] = {
    "TMS_NTI": (TrackingStatus.PENDING, None),  # 查无轨迹: no track yet
    "TMS_OC": (TrackingStatus.INFO_RECEIVED, None),  # 订单创建: carrier has the order data
    "TMS_AS": (TrackingStatus.INFO_RECEIVED, None),  # 预上网: pre-advised
    "TMS_PU": (TrackingStatus.IN_TRANSIT, None),  # 揽件完毕: picked up
    "TMS_IT": (TrackingStatus.IN_TRANSIT, None),  # 运输中
    "TMS_OD": (TrackingStatus.OUT_FOR_DELIVERY, None),  # 派送中
    "TMS_WPU": (TrackingStatus.AVAILABLE_FOR_PICKUP, None),  # 到达目的地, waiting to be collected
    "TMS_DF": (TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),  # 投递未遂
    "TMS_EXCP": (TrackingStatus.EXCEPTION, None),  # 轨迹异常: reason read from the carrier's text
    "TMS_RT": (TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER),  # 退回寄件人
    "TMS_FD": (TrackingStatus.DELIVERED, None),  # 派送完毕
    "TMS_YD": (TrackingStatus.DELIVERED, None),  # 预签收: provisionally signed for
    "TMS_UN": (TrackingStatus.IN_TRANSIT, None),  # 无法匹配: an event Goodcang could not classify
    "TMS_NP": (TrackingStatus.IN_TRANSIT, None),  # 未变化: no change
}

# TMS_EXCP covers every carrier exception; the carrier's own text tells which (first match wins).
EXCEPTION_KEYWORDS: tuple[tuple[tuple[str, ...], ExceptionReason], ...] = (
    (("customs", "clearance", "海关", "清关"), ExceptionReason.CUSTOMS_DELAY),
    (("address", "地址"), ExceptionReason.ADDRESS_PROBLEM),
    (("lost", "missing", "丢失", "遗失"), ExceptionReason.LOST),
    (("damage", "破损", "损坏"), ExceptionReason.DAMAGED),
    (("return to sender", "returned to sender", "退回"), ExceptionReason.RETURNED_TO_SENDER),
    (("attempt", "not available", "未遂", "不在家"), ExceptionReason.FAILED_ATTEMPT),
    (("delay", "延误", "延迟"), ExceptionReason.DELIVERY_DELAY),
)

# Failure classification. 10103099 (订单已废弃) and 10103086 (no data) are codes seen in real
# answers; the others match the emulator (assumed) and are backed by the message patterns.
DUPLICATE_CODES = {"10102001", "10103001", "10104001", "10105001"}
DUPLICATE_RE = re.compile(r"已存在|重复|already exist|duplicate", re.IGNORECASE)
AUDITED_CODES = {"10102002"}
AUDITED_RE = re.compile(r"已审核|audited", re.IGNORECASE)
DISCARDED_CODES = {"10103099"}
NOT_FOUND_CODES = {"10103086"}
AUTH_CODES = {"401"}
AUTH_RE = re.compile(r"app-?token|app-?key|token.*(invalid|错误|无效)|鉴权|认证失败", re.IGNORECASE)
THROTTLE_CODES = {"403", "429"}
THROTTLE_RE = re.compile(r"频繁|限流|too many|rate limit|frequency", re.IGNORECASE)
FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*(?:不能为空|格式错误|无效|is required|is invalid)")
BUSY_RE = re.compile(r"系统繁忙|system busy|稍后重试|try again later", re.IGNORECASE)


# -- time --------------------------------------------------------------------------------------

def from_beijing(value) -> datetime | None:
    """``"2021-04-20 19:40:28"`` (Beijing) -> aware UTC; ``None`` for empty / zero dates."""
    return _parse(value, BEIJING)


def from_utc(value) -> datetime | None:
    return _parse(value, UTC)


def _parse(value, tz) -> datetime | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.startswith("0000-00-00") or text.lower() in ("null", "none"):
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz).astimezone(UTC)
        except ValueError:
            continue
    return None


def to_beijing(moment: datetime) -> str:
    """Aware datetime (naive = UTC) -> Beijing ``YYYY-MM-DD HH:MM:SS``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def beijing_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).date()


def beijing_today() -> date:
    return datetime.now(BEIJING).date()


# -- requests ----------------------------------------------------------------------------------

def order_payload(request: OutboundRequest, shipping_method: str) -> dict:
    """``order/create_order``; ``verify`` 1 = create and release to the warehouse at once."""
    to = request.ship_to
    address1, address2 = _split(to.address1 or "", to.address2 or "", 50)
    first = to.first_name or to.name or to.full_name or ""
    payload = {
        "reference_no": request.reference,
        "platform": "OTHER",
        "shipping_method": shipping_method,
        "warehouse_code": request.warehouse_code,
        "country_code": (to.country_code or "").upper(),
        # Goodcang requires a province; countries without one (DE, FR…) get the city, as their
        # own order import does.
        "province": to.province_code or to.province or to.city or "",
        "city": to.city or "",
        "company": to.company or "",
        "address1": address1,
        "address2": address2,
        "zipcode": to.zip or "",
        "name": first,
        "last_name": (to.last_name or "") if to.first_name else "",
        "phone": to.phone or "",
        "email": request.email or "",
        "verify": 1,
        "items": [{"product_sku": line.sku, "quantity": line.quantity} for line in request.lines],
    }
    if request.order_name:
        payload["order_desc"] = f"Order {request.order_name}"
    return payload


def _split(first: str, second: str, limit: int) -> tuple[str, str]:
    """Goodcang: address1 longer than 50 characters must continue in address2."""
    if len(first) <= limit:
        return first, second
    cut = first.rfind(" ", 0, limit + 1)
    cut = cut if cut > 0 else limit
    return first[:cut].rstrip(), " ".join(p for p in (first[cut:].strip(), second) if p)


def product_payload(spec: SkuSpec, countries: Iterable[str], defaults: Mapping[str, object]) -> dict:
    """``product/add_product``. Weight in kg, dimensions in cm, declared values in USD."""
    payload: dict = {
        "product_sku": spec.sku,
        "reference_no": spec.barcode or "",
        "product_name_cn": spec.title,
        "product_name_en": spec.title,
        "product_declared_name_cn": spec.title,
        "product_declared_name": spec.title,
        "verify": 1,
        **{k: v for k, v in defaults.items() if k != "product_link"},
    }
    payload["product_link"] = str(defaults.get("product_link", "")).format(sku=spec.sku)
    if spec.weight_g is not None:
        payload["product_weight"] = round(spec.weight_g / 1000, 3)
    for name, value in (("product_length", spec.length_mm), ("product_width", spec.width_mm),
                        ("product_height", spec.height_mm)):
        if value is not None:
            payload[name] = round(value / 10, 2)
    if spec.declared_value is not None:
        value = float(Decimal(spec.declared_value).quantize(Decimal("0.01")))
        payload["export_country"] = [{"country_code": "CN", "declared_value": value}]
        payload["import_country"] = [{"country_code": c, "declared_value": value} for c in sorted(set(countries))]
    return payload


def grn_payload(request: InboundRequest) -> dict:
    """``inbound_order/create_grn`` for a self-shipped inbound (transit_type 0), one box.
    Submitting it (verify 1) needs a tracking number; without one it stays a draft."""
    if request.expected_at is None:
        raise PermanentError("Goodcang needs an expected arrival date for an inbound order",
                             field="expected_at", code="eta_date", system=SYSTEM, operation="create_inbound")
    return {
        "reference_no": request.reference,
        "transit_type": 0,
        "receiving_shipping_type": 2,  # 快递 (express); sea/air freight is booked with Goodcang directly
        "warehouse_code": request.warehouse_code,
        "eta_date": beijing_date(request.expected_at).isoformat(),
        "tracking_number": request.tracking_number or "",
        "receiving_desc": f"Carrier: {request.carrier}" if request.carrier else "",
        "verify": 1 if request.tracking_number else 0,
        "items": [{"box_no": 1, "box_details": [{"product_sku": line.sku, "quantity": line.quantity}
                                                for line in request.lines]}],
    }


def return_payload(request: ReturnRequest, order_code: str, warehouse_code: str) -> dict:
    """``return_order/create``: a customer return (质检 inspection) of a Goodcang-shipped order."""
    return {
        "order_code": order_code,
        "ref_no": request.reference,
        "is_verify": "1",
        "warehouse_code": warehouse_code,
        "service_type": 1,
        "return_identification": 1,
        "ro_desc": request.reason or "",
        "product_list": [{"product_sku": line.sku, "num": line.quantity} for line in request.lines],
    }


# -- answers -----------------------------------------------------------------------------------

def site(row: Mapping) -> WarehouseSite:
    country = row.get("country_code") or None
    return WarehouseSite(code=str(row["warehouse_code"]), name=str(row.get("warehouse_name") or row["warehouse_code"]),
                         country_code=country, region="EU" if country in EU else None)


EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}


def integer(value) -> int:
    """Goodcang sends counts as numbers or strings ("1482")."""
    try:
        return int(Decimal(str(value).strip() or "0"))
    except ArithmeticError:
        return 0


def stock(row: Mapping) -> StockRecord:
    """``sellable`` is what can be sold, ``reserved`` what waits to ship (待出库), ``onway`` and
    ``pending`` (arrived, awaiting put-away) are not sellable yet."""
    sellable, reserved = integer(row.get("sellable")), integer(row.get("reserved"))
    return StockRecord(sku=str(row["product_sku"]), warehouse_code=str(row["warehouse_code"]),
                       on_hand=sellable + reserved, available=sellable, reserved=reserved,
                       inbound=integer(row.get("onway")) + integer(row.get("pending")))


def outbound(reference: str, data: Mapping, *, delivered: bool = False) -> Outbound:
    status = ORDER_STATUS.get(str(data.get("order_status") or ""), OutboundStatus.EXCEPTION)
    if delivered and status is OutboundStatus.SHIPPED:
        status = OutboundStatus.DELIVERED
    lines = tuple(Line(str(i["product_sku"]), integer(i.get("quantity"))) for i in data.get("items") or ())
    shipped_at = from_beijing(data.get("date_shipping"))
    carrier = data.get("shipping_method") or None
    numbers = [b.get("tracking_number") for b in data.get("orderBoxInfo") or () if b.get("tracking_number")]
    if data.get("tracking_no"):
        numbers.insert(0, data["tracking_no"])
    numbers = list(dict.fromkeys(numbers))
    packages = tuple(Package(tracking_number=n, carrier=carrier, lines=lines if len(numbers) == 1 else (),
                             shipped_at=shipped_at) for n in numbers)
    problem = data.get("abnormal_problem_reason") or None
    return Outbound(reference=reference, external_id=str(data.get("order_code") or ""), status=status,
                    warehouse_code=data.get("warehouse_code") or None, packages=packages,
                    updated_at=from_beijing(data.get("date_modify")), error=problem)


def tracking(data: Iterable[Mapping]) -> list[TrackingEvent]:
    """``batch_query_tracking_status`` data -> events, oldest first. The documented item list is
    ``status_list``; Goodcang's own example calls it ``item``: both are read."""
    events = []
    for order in data:
        carrier = order.get("code") or None
        for trajectory in order.get("trajectory_information") or ():
            number = trajectory.get("tracking_number") or ""
            for item in trajectory.get("status_list") or trajectory.get("item") or ():
                event = tracking_event(number, carrier, item)
                if event is not None:
                    events.append(event)
    events.sort(key=lambda e: e.occurred_at)
    return events


def tracking_event(number: str, carrier: str | None, item: Mapping) -> TrackingEvent | None:
    occurred = from_beijing(item.get("date_time")) or from_utc(item.get("utc_time"))
    if occurred is None:
        return None
    code = str(item.get("code") or "")
    text = " ".join(str(item.get(k) or "") for k in ("info", "code_info"))
    status, reason = TRACKING_CODES.get(code, (None, None))
    if status is None:  # a code Goodcang added later: read the text
        reason = exception_reason(text)
        status = TrackingStatus.EXCEPTION if reason else TrackingStatus.IN_TRANSIT
    elif status is TrackingStatus.EXCEPTION and reason is None:
        reason = exception_reason(text)
    return TrackingEvent(tracking_number=number, status=status, occurred_at=occurred, reason=reason,
                         description=str(item.get("info") or item.get("code_info") or ""),
                         location=item.get("location") or None, carrier=carrier, raw_code=code or None)


def exception_reason(text: str) -> ExceptionReason | None:
    lowered = text.lower()
    for words, reason in EXCEPTION_KEYWORDS:
        if any(w in lowered for w in words):
            return reason
    return None


# -- errors ------------------------------------------------------------------------------------

def failure_of(body: Mapping) -> tuple[str, str] | None:
    """(errCode, message) when a V1 (``ask``) or V2 (``code``) answer is a failure, else None."""
    if "ask" in body:
        if body.get("ask") == "Success":
            return None
        error = body.get("Error") if isinstance(body.get("Error"), Mapping) else {}
        code = error.get("errCode") or body.get("errCode") or ""
        message = error.get("errMessage") or body.get("message") or "Failure"
        return str(code), str(message)
    if str(body.get("code")) in ("0", "200"):
        return None
    return str(body.get("code", "")), str(body.get("message") or "Failure")


def error_for(code: str, message: str, payload: Mapping, operation: str):
    """The connector error for a Goodcang failure answer."""
    text = f"Goodcang {code}: {message}" if code else f"Goodcang: {message}"
    if code in AUTH_CODES or AUTH_RE.search(message):
        return AuthError(text, code=code or None, system=SYSTEM, operation=operation)
    if code in THROTTLE_CODES or THROTTLE_RE.search(message):
        return RetryableError(text, retry_after=1.0, system=SYSTEM, operation=operation)
    if BUSY_RE.search(message):
        return RetryableError(text, system=SYSTEM, operation=operation)
    return PermanentError(text, field=field_in(message, payload), code=code or None, system=SYSTEM,
                          operation=operation)


def field_in(message: str, payload: Mapping) -> str | None:
    """The request field a validation message names (Goodcang says ``"<field>不能为空"``)."""
    named = FIELD_RE.search(message)
    if named:
        return named.group(1)
    names = set(_keys(payload))
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", message):
        if token in names or token.split(".")[0] in names:
            return token
    return None


def _keys(value) -> Iterable[str]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def is_duplicate(error: PermanentError) -> bool:
    return (error.code in DUPLICATE_CODES) or bool(DUPLICATE_RE.search(error.message))


def is_audited(error: PermanentError) -> bool:
    return (error.code in AUDITED_CODES) or bool(AUDITED_RE.search(error.message))


def is_discarded(error: PermanentError) -> bool:
    return error.code in DISCARDED_CODES or "已废弃" in error.message


def is_not_found(error: PermanentError) -> bool:
    return error.code in NOT_FOUND_CODES or error.message.strip().lower() == "no data"


# return_order/search "asro_status" (documented) and inbound_order/get_grn_list
# "receiving_status" (not in the pages we have: assumed codes).
RETURN_STATUS = {"0": "draft", "1": "submitted", "4": "received", "5": "processed", "6": "discarded",
                 "7": "processing"}
GRN_STATUS = {"0": "draft", "1": "submitted", "5": "received"}
