"""Goodcang <-> domain translation for :mod:`connectors.warehouses.goodcang`: Beijing time,
request payloads, answer parsing and error classification (the cited code tables live in
:mod:`connectors.warehouses.goodcang_codes`). Pure functions: a value the tables do not know is
read conservatively and handed back as a *problem* ``(field, value)`` for the connector to report.

Goodcang answers every time in Beijing time (UTC+8, China has no DST) as ``YYYY-MM-DD HH:MM:SS``
and expects the same in requests; ``0000-00-00 00:00:00`` means "not yet". Request and answer
keys follow the public SDK ``EalenXie/sdk-all`` module ``goodcang-sdk`` (``sdk:`` below).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from connectors.errors import PermanentError
from connectors.warehouses import goodcang_codes as codes
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
Problem = tuple[str, str]  # (vendor field, value) our tables do not map


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
    """``order/create_order`` (sdk:warehouse/CreateOrderPayload.java, items: OrderItem.java);
    ``verify`` 1 = submit for release at once (是否直接审核)."""
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
    """``product/add_product`` / ``edit_product`` (sdk:product/AddProductPayload.java,
    EditProductPayload.java, DeclaredCountry.java). Weight in kg, dimensions in cm, declared values
    in USD (DeclaredCountry: "币种只能为USD")."""
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
    """``inbound_order/create_grn`` (sdk:warehouse/CreateGrnPayload.java, BoxItem.java,
    BoxDetail.java) for a self-shipped inbound (transit_type 0), one box.
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
    """``return_order/create`` (sdk:warehouse/ReturnOrderCreatePayload.java, ReturnProduct.java):
    a customer return of a Goodcang-shipped order."""
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


# -- answers ---------------------------------------------------------------------------------

def site(row: Mapping) -> WarehouseSite:
    """sdk:base/Warehouse.java: warehouse_code, warehouse_name, country_code (wp_list unused)."""
    country = row.get("country_code") or None
    return WarehouseSite(code=str(row["warehouse_code"]), name=str(row.get("warehouse_name") or row["warehouse_code"]),
                         country_code=country, region="EU" if country in EU else None)


EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}


def integer(value) -> int:
    """Goodcang sends counts as numbers or strings ("1482"); unreadable counts read as 0."""
    number = quantity(value)
    return number if number is not None else 0


def quantity(value) -> int | None:
    """A whole, non-negative number, or None when the value is missing or not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        return None
    return int(number)


def more_pages(body: Mapping, seen: int, rows: int) -> bool:
    """sdk:ResponsePage.java ``count`` is the total row count; ``seen`` rows so far, ``rows`` on
    the page just read. Counting rows (not pages) holds whatever page size the server applied."""
    return rows > 0 and seen < integer(body.get("count"))


# sdk:warehouse/ProductInventory.java. Every one of these must be a readable count, else the row's
# ``available`` cannot be computed and is reported as 0.
STOCK_FIELDS = ("sellable", "reserved", "unsellable", "pending", "onway", "pi_freeze", "pi_no_stock")


def stock(row: Mapping) -> tuple[StockRecord | None, list[Problem]]:
    """``get_product_inventory`` row -> StockRecord, in StockRecord's one meaning of "available".

    Goodcang fields (sdk:warehouse/ProductInventory.java) and what they make up:

    * ``available`` = ``sellable`` (可售) - ``pi_freeze`` (冻结) - ``pi_no_stock`` (缺货), at least 0;
      0 when ``product_freeze_status`` says the SKU is frozen. Whether frozen units are already
      outside ``sellable`` is undocumented, so they are taken off (less, never more); ``pi_no_stock``
      is ordered quantity the shelf cannot cover yet, so it is claimed before anything is sold.
    * ``reserved`` = ``reserved`` (待出库: allocated to outbound orders, still on the shelf).
    * ``on_hand`` = ``sellable`` + ``reserved`` + ``unsellable`` (不合格) + ``pending`` (待上架:
      arrived, not put away) - every unit in the building.
    * ``inbound`` = ``onway`` (在途).
    * not used: ``stocking`` (备货) and ``shipped`` (already left), ``pi_freeze`` for on_hand (it is
      counted once, inside ``sellable``, by the same assumption as above).

    A missing or unreadable count, or a freeze status not in the table, is returned as a problem
    and ``available`` is 0 for the row."""
    sku, warehouse = row.get("product_sku"), row.get("warehouse_code")
    if not sku or not warehouse:
        return None, [("inventory.product_sku", f"{warehouse}/{sku}")]
    problems: list[Problem] = []
    counts = {}
    for name in STOCK_FIELDS:
        counts[name] = quantity(row.get(name))
        if counts[name] is None:
            problems.append((f"inventory.{name}", str(row.get(name))))
    freeze = row.get("product_freeze_status")
    frozen = False
    if freeze not in (None, ""):
        frozen = codes.FREEZE_STATUS.get(str(freeze), True)
        if str(freeze) not in codes.FREEZE_STATUS:
            problems.append(("inventory.product_freeze_status", str(freeze)))
    n = {k: v or 0 for k, v in counts.items()}
    available = max(0, n["sellable"] - n["pi_freeze"] - n["pi_no_stock"])
    if frozen or problems:
        available = 0
    return StockRecord(sku=str(sku), warehouse_code=str(warehouse),
                       on_hand=n["sellable"] + n["reserved"] + n["unsellable"] + n["pending"],
                       available=available, reserved=n["reserved"], inbound=n["onway"]), problems


def outbound(reference: str, data: Mapping, *, delivered: bool = False) -> Outbound:
    """sdk:warehouse/Order.java -> Outbound; an order_status not in the table reads as EXCEPTION
    (never shipped), for the connector to report."""
    status = codes.ORDER_STATUS.get(str(data.get("order_status") or ""), OutboundStatus.EXCEPTION)
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


def tracking(data) -> list[TrackingEvent]:
    """``query_tracking_status`` data (sdk:warehouse/TrackingStatusResponse.java, one object; a
    list of them is read too) -> events, oldest first. Items are under
    ``trajectory_information[].item`` (sdk:warehouse/TrajectoryInformation.java)."""
    orders = [data] if isinstance(data, Mapping) else list(data or ())
    events = []
    for order in orders:
        carrier = order.get("code") or None
        for trajectory in order.get("trajectory_information") or ():
            number = trajectory.get("tracking_number") or ""
            for item in trajectory.get("item") or ():
                event = tracking_event(number, carrier, item)
                if event is not None:
                    events.append(event)
    events.sort(key=lambda e: e.occurred_at)
    return events


def tracking_event(number: str, carrier: str | None, item: Mapping) -> TrackingEvent | None:
    """sdk:warehouse/TrajectoryItem.java; a code not in the table is read from the carrier's text
    and never as delivered."""
    occurred = from_beijing(item.get("date_time")) or from_utc(item.get("utc_time"))
    if occurred is None:
        return None
    code = str(item.get("code") or "")
    text = " ".join(str(item.get(k) or "") for k in ("info", "code_info"))
    status, reason = codes.TRACKING_CODES.get(code, (None, None))
    if status is None:
        reason = exception_reason(text)
        status = TrackingStatus.EXCEPTION if reason else TrackingStatus.IN_TRANSIT
    elif status is TrackingStatus.EXCEPTION and reason is None:
        reason = exception_reason(text)
    return TrackingEvent(tracking_number=number, status=status, occurred_at=occurred, reason=reason,
                         description=str(item.get("info") or item.get("code_info") or ""),
                         location=item.get("location") or None, carrier=carrier, raw_code=code or None)


def exception_reason(text: str) -> ExceptionReason | None:
    lowered = text.lower()
    for words, reason in codes.EXCEPTION_KEYWORDS:
        if any(w in lowered for w in words):
            return reason
    return None


def status_of(table: Mapping[str, str], value) -> str | None:
    """A GRN / return status code -> our word, None when the table does not know it."""
    return table.get(str(value)) if value is not None else None
