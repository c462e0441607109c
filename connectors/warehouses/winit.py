"""WINIT (万邑通) overseas-warehouse provider over WINIT's open API gateway.

Protocol (https://developer.winit.com.cn/document/detail/id/14 and /id/6, as used by public clients
such as EalenXie/sdk-all winit-sdk): every call is one ``POST`` of a JSON envelope to one gateway,
``https://openapi.winit.com.cn/openapi/service`` (sandbox ``sandboxopenapi.winit.com.cn``)::

    {action, app_key, client_id?, client_sign?, data, format: "json", language: "zh_CN",
     platform, sign, sign_method: "md5", timestamp: "yyyy-MM-dd HH:mm:ss" (Beijing), version: "1.0"}

``sign`` = upper(md5(token + "action"… "version"<value> + token)) over the fields of
:data:`winit_mapping.SIGNED_FIELDS` with ``data`` as sorted, null-free compact JSON (WINIT
re-serialises ``data`` that way to check it); ``client_sign`` is the same with the client secret.
Answers are ``{"code": "0", "msg": "操作成功", "data": …}``; times are Beijing time (UTC+8).

Credentials (one merchant's WINIT account):

* ``app_key`` - the 万邑联 login (e-mail) the API is opened for;
* ``token`` - the account's API token (signs every request; never sent);
* ``platform`` - the app code WINIT assigned to the integrating ERP ("" for a seller's own ERP);
* ``client_id`` / ``client_secret`` - optional, the developer-console app (adds client_sign);
* ``inbound_product_code`` - WINIT product (head-haul service) for ASNs (needed by create_inbound);
* ``return_product_code`` - optional WINIT return service code for RMAs;
* ``language`` - optional, default ``zh_CN``.

WINIT pushes nothing to us: stock and shipments are polled (inventory ledger cursor, order query).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import winit_mapping as wm
from connectors.warehouses.base import BaseProvider
from connectors.warehouses.registry import register
from integration.domain.warehousing import (
    Capability,
    InboundRequest,
    InboundShipment,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    ReturnAuthorization,
    ReturnRequest,
    SkuSpec,
    StockPage,
    StockRecord,
    TrackingEvent,
    WarehouseEvent,
    WarehouseSite,
)

CACHE_TTL = 3600  # warehouse list and delivery ways change rarely
REFERENCE_TTL = 400 * 24 * 3600  # our reference -> WINIT outbound number


@register
class WinitProvider(BaseProvider):
    name = "winit"
    capabilities = frozenset({Capability.INVENTORY_CURSOR, Capability.INBOUND, Capability.RETURNS})
    default_endpoint = "https://openapi.winit.com.cn/openapi/service"
    # WINIT publishes no figure we could find; we assume 10 requests/s per app_key (the emulator's
    # default) and stay under it so network jitter never pushes a burst over the line.
    rate_per_second = 9.0
    burst = 8.0
    page_size = 100  # queryWarehouseStorage rows per page
    changes_page_size = 50  # inventory ledger rows per page
    lookup_days = 180  # how far back we search an order by its seller order number
    ledger_span_days = 30  # one ledger query covers at most this many days

    def __init__(self, credentials: Mapping[str, str], *, redis, account_key: str, endpoint: str | None = None,
                 session: requests.Session | None = None, on_call=None, on_unknown=None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(credentials, redis=redis, account_key=account_key, endpoint=endpoint, session=session,
                         on_call=on_call, on_unknown=on_unknown)
        missing = [key for key in ("app_key", "token") if not self.credentials.get(key)]
        if missing:
            raise AuthError(f"WINIT credentials lack {', '.join(missing)}", field=missing, system=self.name)
        self._redis = redis
        self._account = account_key
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- transport ---------------------------------------------------------------------------

    def _envelope(self, action: str, data: Any) -> dict:
        creds = self.credentials
        fields = {"action": action, "app_key": creds["app_key"], "data": wm.canonical_data(data), "format": "json",
                  "platform": creds.get("platform") or "", "sign_method": "md5",
                  "timestamp": wm.format_time(self.clock()), "version": "1.0"}
        body = {**fields, "data": wm.strip_nulls(data or {}), "language": creds.get("language") or "zh_CN",
                "sign": wm.sign(creds["token"], fields)}
        if creds.get("client_id") and creds.get("client_secret"):
            body["client_id"] = creds["client_id"]
            body["client_sign"] = wm.sign(creds["client_secret"], fields)
        return body

    def _call(self, operation: str, action: str, data: Any = None) -> Any:
        """One rate-limited, recorded gateway call; returns ``data`` of a "0" answer."""
        self.limiter.take()
        body = self._envelope(action, data)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        excerpt = json.dumps({"action": action, "data": body["data"]}, ensure_ascii=False)  # no sign, no key
        started = time.perf_counter()
        try:
            response = self.session.post(self.endpoint, data=raw,
                                         headers={"Content-Type": "application/json;charset=UTF-8"})
        except (RetryableError, requests.RequestException) as exc:
            self._record(operation, None, started, error=type(exc).__name__, request=excerpt)
            raise RetryableError(f"WINIT {action}: {exc}", system=self.name, operation=operation) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            # A gateway 429 carries Retry-After (1 s if it does not); a 5xx is retried with backoff.
            retry_after = (_retry_after(response) or 1.0) if status == 429 else None
            self._record(operation, status, started, error=f"http {status}", request=excerpt,
                         response=response.text)
            raise RetryableError(f"WINIT {action}: HTTP {status}", retry_after=retry_after, system=self.name,
                                 operation=operation)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if status != 200 or not isinstance(payload, dict):
            self._record(operation, status, started, error="bad answer", request=excerpt, response=response.text)
            error = AuthError if status in (401, 403) else RetryableError if status == 200 else PermanentError
            raise error(f"WINIT {action}: HTTP {status}, not a WINIT envelope", system=self.name,
                        operation=operation)
        code, msg = str(payload.get("code")), str(payload.get("msg") or "")
        if code != wm.OK:
            self._record(operation, status, started, error=f"{code} {msg}", request=excerpt, response=response.text)
            raise wm.error_for(code, msg, operation=operation)
        result = payload.get("data")
        self._record(operation, status, started, request=excerpt, response=response.text,
                     external_id=_external_id(result))
        return result

    # -- caches (Redis, shared by every worker of this account) -----------------------------

    def _key(self, name: str) -> str:
        return f"nearstock:winit:{self._account}:{name}"

    def _cached(self, name: str):
        raw = self._redis.get(self._key(name))
        return None if raw is None else json.loads(raw)

    def _cache(self, name: str, value, ttl: int) -> None:
        self._redis.set(self._key(name), json.dumps(value), ex=ttl)

    def _warehouses(self, *, refresh: bool = False) -> dict[str, dict]:
        table = None if refresh else self._cached("warehouses")
        if table is None:
            rows = self._call("list_warehouses", "queryWarehouse", {}) or []
            table = {str(row["warehouseCode"]): row for row in rows if row.get("warehouseCode")}
            self._cache("warehouses", table, CACHE_TTL)
        return table

    def _warehouse(self, code: str) -> dict:
        table = self._warehouses()
        if code not in table:
            table = self._warehouses(refresh=True)
        if code not in table:
            raise PermanentError(f"WINIT has no warehouse {code!r}", field="warehouse_code",
                                 code="unknown_warehouse", system=self.name)
        return table[code]

    def _delivery_way(self, warehouse: dict, service: str | None) -> str:
        """The deliveryWayID for ``service`` (an ID, a winitProductCode or a name; None = first)."""
        name = f"delivery:{warehouse['warehouseID']}"
        ways = self._cached(name)
        if ways is None:
            ways = self._call("delivery_ways", "queryDeliveryWay", {"warehouseID": str(warehouse["warehouseID"])}) or []
            self._cache(name, ways, CACHE_TTL)
        for way in ways:
            if service is None or service in (str(way.get("deliveryID")), way.get("winitProductCode"),
                                              way.get("deliveryWay")):
                return str(way["deliveryID"])
        raise PermanentError(f"WINIT warehouse {warehouse['warehouseCode']} has no delivery way {service!r}",
                             field="shipping_service", code="unknown_service", system=self.name)

    def _remember(self, reference: str, number: str) -> None:
        self._redis.set(self._key(f"outbound:{reference}"), number, ex=REFERENCE_TTL)

    def _outbound_number(self, reference: str, *, cached: bool = True) -> str:
        raw = self._redis.get(self._key(f"outbound:{reference}")) if cached else None
        if raw is not None:
            return raw.decode() if isinstance(raw, bytes) else str(raw)
        now = self.clock()
        found = self._call("find_outbound", "queryOutboundOrderList", {
            "sellerOrderNo": reference, "pageNum": 1, "pageSize": 20,
            "dateOrderedStartDate": wm.format_date(now - timedelta(days=self.lookup_days)),
            "dateOrderedEndDate": wm.format_date(now + timedelta(days=2))}) or {}
        for row in found.get("list") or ():
            if row.get("sellerOrderNo") == reference and row.get("documentNo"):
                self._remember(reference, str(row["documentNo"]))
                return str(row["documentNo"])
        raise wm.WinitNotFoundError(f"WINIT has no outbound order for {reference!r}", field="reference",
                                    code="not_found", system=self.name, operation="find_outbound")

    def _outbound_row(self, reference: str) -> dict:
        for cached in (True, False):  # a stale cached number is looked up again once
            number = self._outbound_number(reference, cached=cached)
            try:
                result = self._call("get_outbound", "queryOutboundOrder", {"outboundOrderNum": number}) or {}
            except wm.WinitNotFoundError:
                self._redis.delete(self._key(f"outbound:{reference}"))
                if not cached:
                    raise
                continue
            rows = result.get("list") or []
            if rows:
                return rows[0]
        raise wm.WinitNotFoundError(f"WINIT has no outbound order for {reference!r}", field="reference",
                                    code="not_found", system=self.name, operation="get_outbound")

    # -- port --------------------------------------------------------------------------------

    def list_warehouses(self) -> list[WarehouseSite]:
        sites = []
        for code, row in sorted(self._warehouses(refresh=True).items()):
            country = wm.country_of(row)
            sites.append(WarehouseSite(code=code, name=str(row.get("warehouseName") or code), country_code=country,
                                       region=wm.region_of(country)))
        return sites

    def upsert_sku(self, spec: SkuSpec) -> None:
        self._call("upsert_sku", "registerProduct", wm.product_payload(spec))

    def create_outbound(self, request: OutboundRequest) -> Outbound:
        warehouse = self._warehouse(request.warehouse_code)
        way = self._delivery_way(warehouse, request.shipping_service)
        data = wm.outbound_payload(request, warehouse_id=warehouse["warehouseID"], delivery_way_id=way)
        try:
            result = self._call("create_outbound", "createOutboundOrder", data) or {}
        except wm.WinitDuplicateError:
            # Created by an earlier attempt (e.g. one that timed out): return that order.
            return self.get_outbound(request.reference)
        number = str(result["outboundOrderNum"])
        self._remember(request.reference, number)
        return Outbound(reference=request.reference, external_id=number, status=OutboundStatus.RECEIVED,
                        warehouse_code=request.warehouse_code, updated_at=self.clock())

    def cancel_outbound(self, reference: str) -> Outbound:
        number = self._outbound_number(reference)
        self._call("cancel_outbound", "voidOutboundOrder", {"outboundOrderNum": number})
        return self.get_outbound(reference)

    def get_outbound(self, reference: str) -> Outbound:
        return wm.parse_outbound(reference, self._outbound_row(reference))

    def get_inventory(self, warehouse_code: str | None = None,
                      skus: Sequence[str] | None = None) -> list[StockRecord]:
        codes = [warehouse_code] if warehouse_code else sorted(self._warehouses(refresh=True))
        wanted = set(skus) if skus is not None else None
        records: list[StockRecord] = []
        for code in codes:
            records.extend(r for r in self._storage(code) if wanted is None or r.sku in wanted)
        return records

    def _storage(self, code: str) -> list[StockRecord]:
        warehouse = self._warehouse(code)
        records: list[StockRecord] = []
        page = 1
        while True:
            result = self._call("get_inventory", "queryWarehouseStorage", {
                "warehouseID": str(warehouse["warehouseID"]), "pageNum": page, "pageSize": self.page_size}) or {}
            rows = result.get("list") or []
            as_of = self.clock()
            records.extend(wm.parse_stock(row, code, as_of) for row in rows)
            if not rows or page * self.page_size >= wm.to_int(result.get("total")):
                return records
            page += 1

    def inventory_changes(self, cursor: str | None) -> StockPage:
        """Stock of the SKUs whose ledger (winit.inventory.pageInvInouts, 库存流水) moved since
        ``cursor``. The cursor is opaque: a start date and the rows already consumed from it. It is
        always returned (store it); ``has_more`` says a next page is ready now."""
        today = self.clock().astimezone(wm.BEIJING).date()
        # No cursor: start a week back (the first sync takes a full get_inventory snapshot anyway).
        start, consumed = _decode_cursor(cursor, default=today - timedelta(days=7))
        end = start + timedelta(days=self.ledger_span_days)
        size = self.changes_page_size
        result = self._call("inventory_changes", "winit.inventory.pageInvInouts", {
            "startDate": start.isoformat(), "endDate": end.isoformat(),
            "pageVo": {"pageNo": consumed // size + 1, "pageSize": size}}) or {}
        rows = (result.get("list") or [])[consumed % size:]
        total = wm.to_int((result.get("pageParams") or {}).get("totalCount"))
        consumed += len(rows)
        has_more = consumed < total
        if not has_more and end < today - timedelta(days=1):
            # That window is closed (past days get no new rows): move on to the next one.
            start, consumed, has_more = end + timedelta(days=1), 0, True
        changed: dict[str, set[str]] = {}
        for row in rows:
            changed.setdefault(str(row.get("warehouseCode")), set()).add(str(row.get("skuCode")))
        records = [record for code in sorted(changed) for record in self._storage(code)
                   if record.sku in changed[code]]
        return StockPage(records=tuple(records), next_cursor=_encode_cursor(start, consumed), has_more=has_more)

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        product = self.credentials.get("inbound_product_code")
        if not product:
            raise PermanentError("WINIT inbound needs credentials['inbound_product_code']",
                                 field="inbound_product_code", code="missing_credential", system=self.name)
        self._warehouse(request.warehouse_code)
        try:
            result = self._call("create_inbound", "winit.wh.inbound.order.create",
                                wm.inbound_payload(request, product_code=product)) or {}
            number = str(result["orderNo"])
        except wm.WinitDuplicateError:
            number = self._find_inbound(request)
        return InboundShipment(reference=request.reference, external_id=number, status="created")

    def _find_inbound(self, request: InboundRequest) -> str:
        now = self.clock()
        for page in range(1, 21):
            result = self._call("find_inbound", "winit.wh.inbound.getOrderList", {
                "pageNo": page, "pageSize": 50, "destinationWarehouseCode": request.warehouse_code,
                "orderCreateDateStart": wm.format_date(now - timedelta(days=self.lookup_days)),
                "orderCreateDateEnd": wm.format_date(now + timedelta(days=2))}) or {}
            rows = result.get("list") or []
            for row in rows:
                if row.get("sellerOrderNo") == request.reference:
                    return str(row["orderNo"])
            if len(rows) < 50:
                break
        raise wm.WinitNotFoundError(f"WINIT reports inbound {request.reference!r} as duplicate but lists none",
                                    field="reference", code="not_found", system=self.name)

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        row = self._outbound_row(request.outbound_reference)
        number = str(row.get("outboundOrderNum"))
        data = wm.return_payload(request, outbound_no=number, warehouse_code=str(row.get("warehouseCode")),
                                 product_code=self.credentials.get("return_product_code"))
        try:
            result = self._call("create_return", "rma.returnGoodsOrder.createReturnGoodsOrder", data) or {}
            return ReturnAuthorization(reference=request.reference, external_id=str(result["returnGoodsOrderNo"]),
                                       status=wm.RETURN_STATUS["OD"])
        except wm.WinitDuplicateError:
            found = self._call("find_return", "rma.returnGoodsOrder.queryReturnOderList", {
                "customerOrderNo": request.reference, "outboundOrderNo": number,
                "pageParams": {"pageNo": 1, "pageSize": 20}}) or {}
            for item in found.get("list") or ():
                if item.get("customerOrderNo") == request.reference:
                    return ReturnAuthorization(reference=request.reference, external_id=str(item["returnGoodsOrderNo"]),
                                               status=wm.RETURN_STATUS.get(item.get("status"), "ordered"))
            raise

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        number = self._outbound_number(reference)
        entries = self._call("tracking_events", "tracking.getOrderVerdorTracking", {"trackingnos": number}) or []
        return wm.parse_tracking(entries, number)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        raise PermanentError("WINIT sends no webhooks; poll inventory_changes and get_outbound",
                             code="unsupported", system=self.name, operation="parse_webhook")


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _external_id(result) -> str | None:
    if isinstance(result, dict):
        for key in ("outboundOrderNum", "orderNo", "returnGoodsOrderNo"):
            if result.get(key):
                return str(result[key])
    return None


def _encode_cursor(start, consumed: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"d": start.isoformat(), "n": consumed}).encode()).decode()


def _decode_cursor(cursor: str | None, *, default):
    if not cursor:
        return default, 0
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.strptime(state["d"], "%Y-%m-%d").date(), int(state["n"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(f"not a WINIT inventory cursor: {cursor!r}", field="cursor", code="bad_cursor",
                             system="winit") from exc
