"""WINIT (万邑通) open API: request signing, Beijing time, payloads and answer parsing.

Pure functions; :mod:`connectors.warehouses.winit` does the HTTP. Field names follow the public
SDK EalenXie/sdk-all winit-sdk (``oswh/*.java``, cited per function); the code tables and their
sources are in :mod:`connectors.warehouses.winit_codes`, the stock parser in
:mod:`connectors.warehouses.winit_stock`. Parsers never guess: a value missing from a table is
read the safe way and returned to the caller, which reports it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from connectors.errors import PermanentError
from connectors.warehouses.winit_codes import OUTBOUND_STATUS, SPLIT_TYPES, TRACKING_CODES, UNKNOWN_TRACKING
from integration.domain.warehousing import (
    InboundRequest,
    Line,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    Package,
    ReturnRequest,
    SkuSpec,
    TrackingEvent,
)

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
    """createOutboundOrder (id/49; oswh/CreateOutboundOrderPayload.java, lines
    oswh/OutboundOrderProduct.java). ``repeatable: N`` is meant to make WINIT refuse a second order
    with the same sellerOrderNo (field in the SDK, meaning assumed): the connector does not rely
    on it and looks a retried order up by sellerOrderNo first."""
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
    """rma.returnGoodsOrder.createReturnGoodsOrder (id/151; oswh/ReturnGoodsOrderCreateData.java,
    lines oswh/ReturnGood.java) for goods of one WINIT outbound order; buyer data taken from the
    original order (userInfoSource ORI - no public source for the value: assumed), no label.
    handleMethod "SA" (back on the shelf) is assumed too: the SDK names the field, not its values."""
    return {
        "customerOrderNo": request.reference, "isWinitOutbound": "Y", "outboundOrderNo": outbound_no,
        "warehouseCode": warehouse_code, "userInfoSource": "ORI", "winitProductCode": product_code,
        "ReturnGoodsList": [{"productCode": line.sku, "productNum": str(line.quantity), "handleMethod": "SA"}
                            for line in request.lines],
    }


# -- responses -------------------------------------------------------------------------------
def to_int(value, default: int = 0) -> int:
    try:
        return int(Decimal(str(value)))
    except (ArithmeticError, ValueError, TypeError):
        return default


def created_numbers(result) -> tuple[list[str], str | None]:
    """createOutboundOrder ``data`` (oswh/CreateOutboundOrderResponse.java: orderNo, splitType,
    orderNoList - several numbers when WINIT split the order) -> every number, first = orderNo,
    and the splitType if it is one :data:`winit_codes.SPLIT_TYPES` does not list."""
    if not isinstance(result, Mapping):
        return [], None
    numbers = [str(n) for n in (result.get("orderNoList") or ()) if n]
    if result.get("orderNo") and str(result["orderNo"]) not in numbers:
        numbers.insert(0, str(result["orderNo"]))
    split = result.get("splitType")
    return numbers, (str(split) if split not in (None, "", *SPLIT_TYPES) else None)


def _lines(items) -> tuple[Line, ...]:
    return tuple(Line(str(item.get("productCode")), to_int(item.get("productNum")))
                 for item in items or () if item.get("productCode"))


def parse_outbound(reference: str, row: Mapping) -> tuple[Outbound, str | None]:
    """queryOutboundOrder ``data.list[0]`` (oswh/OutboundOrderInfoResponse.java, packages
    oswh/OutboundPackageList.java) -> one WINIT order as an Outbound, and its status code if our
    table does not know it (then read as RECEIVED without packages: never shipped, never cancelled)."""
    code = str(row.get("status") or "")
    status = OUTBOUND_STATUS.get(code, OutboundStatus.RECEIVED)
    packages: list[Package] = []
    for pkg in row.get("packageList") or ():
        for number in pkg.get("trackingNos") or ():
            packages.append(Package(
                tracking_number=str(number), carrier=row.get("carrier"), lines=_lines(pkg.get("merchandiseList")),
                shipped_at=parse_time(pkg.get("outboundDate") or row.get("outboundDate"))))
    if not packages and row.get("trackingNum"):
        packages.append(Package(str(row["trackingNum"]), carrier=row.get("carrier"),
                                shipped_at=parse_time(row.get("outboundDate"))))
    times = [parse_time(row.get(key)) for key in ("orderedTime", "outboundDate", "actualFinishTime")]
    voided = [pkg.get("reasonForVoid") for pkg in row.get("packageList") or () if pkg.get("reasonForVoid")]
    error = next(iter(voided), None)
    unknown = None if code in OUTBOUND_STATUS else code
    if unknown is not None:  # nothing is fulfilled on a status we cannot read
        error, packages = f"unknown WINIT status {code!r}", []
    number = str(row.get("outboundOrderNum") or "")
    return Outbound(
        reference=reference, external_id=number, status=status, warehouse_code=row.get("warehouseCode"),
        packages=tuple(packages), updated_at=max((t for t in times if t), default=None), error=error,
        external_ids=(number,)), unknown


# How far an order has come; a split order is only as far as its slowest part.
_PROGRESS = (OutboundStatus.RECEIVED, OutboundStatus.PICKING, OutboundStatus.PACKED, OutboundStatus.SHIPPED,
             OutboundStatus.DELIVERED)


def merge_outbound(reference: str, parts: list[Outbound]) -> Outbound:
    """The parts of one order WINIT split, as one Outbound: every package; status conservative
    (an exception in any part wins; cancelled only when every part is; a part cancelled while
    others go on is an exception for a person; otherwise the least advanced part's status)."""
    statuses = [part.status for part in parts]
    errors = [f"{part.external_id}: {part.error}" if len(parts) > 1 else part.error for part in parts if part.error]
    if OutboundStatus.EXCEPTION in statuses:
        status = OutboundStatus.EXCEPTION
    elif all(s is OutboundStatus.CANCELLED for s in statuses):
        status = OutboundStatus.CANCELLED
    elif OutboundStatus.CANCELLED in statuses:
        status = OutboundStatus.EXCEPTION
        errors.append("part of the split order was voided: "
                      + ", ".join(p.external_id for p in parts if p.status is OutboundStatus.CANCELLED))
    else:
        status = min(statuses, key=_PROGRESS.index)
    first = parts[0]
    return Outbound(
        reference=reference, external_id=first.external_id, status=status, warehouse_code=first.warehouse_code,
        packages=tuple(pkg for part in parts for pkg in part.packages),
        updated_at=max((p.updated_at for p in parts if p.updated_at), default=None),
        error="; ".join(errors) or None, external_ids=tuple(p.external_id for p in parts))


def parse_tracking(entries, fallback_number: str) -> tuple[list[TrackingEvent], list[str]]:
    """tracking.getOrderVerdorTracking (oswh/OrderVerdorTracking.java, trace oswh/Trace.java)
    entries -> events, oldest first, and the event codes our table does not know."""
    events: list[TrackingEvent] = []
    unknown: list[str] = []
    for entry in entries or ():
        number = entry.get("trackingNo") or entry.get("orderNo") or fallback_number
        for trace in entry.get("trace") or ():
            occurred = parse_time(trace.get("date"))
            if occurred is None:
                continue
            code = str(trace.get("eventCode") or "")
            if code not in TRACKING_CODES and code not in unknown:
                unknown.append(code)
            status, reason = TRACKING_CODES.get(code, UNKNOWN_TRACKING)
            events.append(TrackingEvent(
                tracking_number=str(number), status=status, occurred_at=occurred, reason=reason,
                description=str(trace.get("eventDescription") or ""), location=trace.get("location") or None,
                carrier=entry.get("carrier") or None, raw_code=code or None))
    events.sort(key=lambda event: event.occurred_at)
    return events, unknown


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


# -- inventory ledger cursor (opaque to callers: a start date and the rows consumed from it) --
def encode_cursor(start, consumed: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"d": start.isoformat(), "n": consumed}).encode()).decode()


def decode_cursor(cursor: str | None, *, default):
    if not cursor:
        return default, 0
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.strptime(state["d"], "%Y-%m-%d").date(), int(state["n"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(f"not a WINIT inventory cursor: {cursor!r}", field="cursor", code="bad_cursor",
                             system="winit") from exc
