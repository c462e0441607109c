"""Goodcang (谷仓海外仓) behind :class:`~integration.domain.ports.WarehouseProvider`.

Goodcang's open API is one JSON ``POST`` per action to ``https://oms.goodcang.net/public_open/
<module>/<action>`` (sandbox: ``https://uat-oms.eminxing.com/public_open``), authenticated by two
headers, ``app-key`` and ``app-token`` (docs: ``https://open.goodcang.com/docs_api/...``). V1
actions answer ``{"ask": "Success"|"Failure", "message", "data", "Error": {"errCode",
"errMessage"}}``, V2 actions ``{"code": 0, "message", "data"}``. Every time is Beijing time.

Credentials (the ``credentials`` mapping):

* ``app_key`` - the account's App Key (Goodcang OMS > 我的 > 开发者信息).
* ``app_token`` - the account's App Token (same page).
* optional ``product_link`` - template of the product page link Goodcang requires for a new SKU
  (``{sku}`` is replaced); ``category_id`` - Goodcang level-2 category id (``cat_id_level2``) for
  new SKUs; ``material`` - declared material of new SKUs.

Errors: HTTP 401 or an auth failure -> :class:`AuthError`; HTTP 403/429 or a "too frequent"
failure -> :class:`RetryableError` (``retry_after`` from ``Retry-After``, else 1 s); 5xx,
timeouts, non-JSON answers -> :class:`RetryableError`; other failures -> :class:`PermanentError`
with Goodcang's ``errCode`` as ``code`` and the named request field as ``field``. A duplicate
reference on create returns the existing order/GRN/return. Goodcang publishes no webhook with a
verifiable signature, so :meth:`parse_webhook` refuses and no push capability is declared.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import goodcang_mapping as gm
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
    TrackingStatus,
    WarehouseEvent,
    WarehouseSite,
)

CURSOR_VERSION = "gc1"


@register
class GoodcangProvider(BaseProvider):
    name = "goodcang"
    capabilities = frozenset({Capability.INVENTORY_CURSOR, Capability.INBOUND, Capability.RETURNS})
    default_endpoint = "https://oms.goodcang.net/public_open"
    # Goodcang publishes no rate limit we could find; 5 requests/s per account is our assumption
    # (the emulator enforces the same figure).
    rate_per_second = 5.0
    burst = 5.0
    inventory_page_size = 200  # Goodcang's maximum pageSize for inventory and its log
    log_window_days = 30  # get_inventory_log: one query spans at most 31 days
    product_defaults = {"contain_battery": 0, "type_of_goods": 0, "cat_lang": "en", "cat_id_level2": 600011,
                        "product_material": "mixed", "branded": 0,
                        "product_link": "https://nearstock.app/sku/{sku}"}

    def __init__(self, credentials: Mapping[str, str], **kwargs) -> None:
        super().__init__(credentials, **kwargs)
        missing = [k for k in ("app_key", "app_token") if not self.credentials.get(k)]
        if missing:
            raise AuthError(f"Goodcang credentials lack {', '.join(missing)}", system=self.name)
        self._shipping_methods: dict[str, str] = {}
        self._sites: list[WarehouseSite] | None = None

    # -- transport ---------------------------------------------------------------------------

    def _call(self, operation: str, action: str, payload: Mapping) -> dict:
        """POST one action; returns the answer body or raises a connector error."""
        self.limiter.take()
        started = time.perf_counter()
        data = json.dumps(payload, ensure_ascii=False)
        headers = {"app-key": self.credentials["app_key"], "app-token": self.credentials["app_token"],
                   "Content-Type": "application/json", "Accept": "application/json"}
        try:
            response = self.session.post(f"{self.endpoint}/{action}", data=data.encode(), headers=headers)
        except RetryableError as exc:
            self._record(operation, None, started, error=exc.message, request=data)
            raise RetryableError(exc.message, system=self.name, operation=operation) from exc
        except requests.RequestException as exc:
            self._record(operation, None, started, error=type(exc).__name__, request=data)
            raise RetryableError(f"{type(exc).__name__} calling Goodcang", system=self.name,
                                 operation=operation) from exc
        body, error = self._interpret(response, payload, operation)
        external = _external_id(body) if isinstance(body, dict) else None
        self._record(operation, response.status_code, started, error=error.message if error else None,
                     external_id=external, request=data, response=response.text)
        if error is not None:
            raise error
        return body

    def _interpret(self, response: requests.Response, payload: Mapping, operation: str):
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        failure = gm.failure_of(body) if isinstance(body, dict) else None
        message = failure[1] if failure else (response.reason or f"HTTP {status}")
        if status == 401 or (status == 403 and gm.AUTH_RE.search(message)):
            return body, AuthError(f"Goodcang refused the credentials: {message}", code="401",
                                   system=self.name, operation=operation)
        if status in (403, 429) or status >= 500:
            # Goodcang throttles with 403 (its integration guide), gateways with 429.
            return body, RetryableError(f"Goodcang HTTP {status}: {message}",
                                        retry_after=_retry_after(response, 1.0 if status in (403, 429) else None),
                                        system=self.name, operation=operation)
        if status >= 400:
            return body, PermanentError(f"Goodcang HTTP {status}: {message}", code=str(status),
                                        system=self.name, operation=operation)
        if not isinstance(body, dict):
            return body, RetryableError(f"Goodcang answered HTTP {status} without a JSON object",
                                        system=self.name, operation=operation)
        if failure is not None:
            return body, gm.error_for(failure[0], failure[1], payload, operation)
        return body, None

    # -- warehouses and products -------------------------------------------------------------

    def list_warehouses(self) -> list[WarehouseSite]:
        body = self._call("list_warehouses", "base_data/get_warehouse", {})
        self._sites = [gm.site(row) for row in body.get("data") or ()]
        return list(self._sites)

    def upsert_sku(self, spec: SkuSpec) -> None:
        """``add_product``; an existing SKU is edited instead. Goodcang freezes a SKU once audited
        (审核之后产品信息不允许修改), so an audited SKU is left as it is."""
        sites = self._sites if self._sites is not None else self.list_warehouses()
        defaults = {**self.product_defaults, **{k: v for k, v in (
            ("product_link", self.credentials.get("product_link")),
            ("cat_id_level2", self.credentials.get("category_id")),
            ("product_material", self.credentials.get("material"))) if v}}
        payload = gm.product_payload(spec, [s.country_code for s in sites if s.country_code], defaults)
        try:
            self._call("upsert_sku", "product/add_product", payload)
            return
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not gm.is_duplicate(exc):
                raise
        try:
            self._call("upsert_sku", "product/edit_product", payload)
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not gm.is_audited(exc):
                raise

    # -- outbound ----------------------------------------------------------------------------

    def create_outbound(self, request: OutboundRequest) -> Outbound:
        """``create_order`` with our reference as ``reference_no``, which Goodcang keeps unique:
        a retry meets "reference exists" and gets the order already created."""
        method = request.shipping_service or self._shipping_method(request.warehouse_code)
        try:
            body = self._call("create_outbound", "order/create_order", gm.order_payload(request, method))
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not gm.is_duplicate(exc):
                raise
            return self.get_outbound(request.reference)
        code = body.get("order_code") or (body.get("data") or {}).get("order_code") or ""
        return Outbound(reference=request.reference, external_id=str(code), status=OutboundStatus.RECEIVED,
                        warehouse_code=request.warehouse_code)

    def get_outbound(self, reference: str) -> Outbound:
        data = self._order(reference, "get_outbound")
        delivered = False
        if data.get("order_status") == "D":  # delivered parcels stay "D": ask the tracking
            events = self.tracking_events(reference)
            delivered = bool(events) and events[-1].status is TrackingStatus.DELIVERED
        return gm.outbound(reference, data, delivered=delivered)

    def cancel_outbound(self, reference: str) -> Outbound:
        data = self._order(reference, "cancel_outbound")
        if data.get("order_status") == "X":
            return gm.outbound(reference, data)
        try:
            self._call("cancel_outbound", "order/cancel_order",
                       {"order_code": data["order_code"], "reason": "Cancelled by the merchant"})
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not gm.is_discarded(exc):
                raise
        return self.get_outbound(reference)

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        body = self._call("tracking_events", "order/batch_query_tracking_status",
                          {"value_list": [reference], "code_type": "reference_no"})
        return gm.tracking(body.get("data") or ())

    def _order(self, reference: str, operation: str) -> dict:
        body = self._call(operation, "order/get_order_by_ref_code", {"reference_no": reference})
        data = body.get("data")
        if not isinstance(data, dict):
            raise PermanentError(f"Goodcang has no order {reference}", code="no_data", system=self.name,
                                 operation=operation)
        return data

    def _shipping_method(self, warehouse: str) -> str:
        if warehouse not in self._shipping_methods:
            body = self._call("shipping_methods", "base_data/get_shipping_method", {"warehouse_code": warehouse})
            codes = [row.get("code") for row in body.get("data") or () if row.get("code")]
            if not codes:
                raise PermanentError(f"Goodcang offers no shipping method at {warehouse}", field="shipping_service",
                                     system=self.name, operation="create_outbound")
            self._shipping_methods[warehouse] = codes[0]
        return self._shipping_methods[warehouse]

    # -- inventory ---------------------------------------------------------------------------

    def get_inventory(self, warehouse_code: str | None = None,
                      skus: Sequence[str] | None = None) -> list[StockRecord]:
        base = {"warehouse_code": warehouse_code} if warehouse_code else {}
        if skus is None:
            return self._inventory(base)
        wanted = list(dict.fromkeys(skus))
        records: list[StockRecord] = []
        for start in range(0, len(wanted), 200):  # product_sku_arr takes at most 200 SKUs
            records += self._inventory({**base, "product_sku_arr": wanted[start:start + 200]})
        return records

    def _inventory(self, filters: Mapping, operation: str = "get_inventory") -> list[StockRecord]:
        records, page = [], 1
        while True:
            rows, count = self._inventory_page(filters, page, operation)
            records += rows
            if not rows or page * self.inventory_page_size >= count:
                return records
            page += 1

    def _inventory_page(self, filters: Mapping, page: int, operation: str) -> tuple[list[StockRecord], int]:
        body = self._call(operation, "inventory/get_product_inventory",
                          {**filters, "page": page, "pageSize": self.inventory_page_size})
        return [gm.stock(row) for row in body.get("data") or ()], gm.integer(body.get("count"))

    def inventory_changes(self, cursor: str | None) -> StockPage:
        """A first pass (cursor None) pages through the whole inventory, then follows Goodcang's
        inventory log (``get_inventory_log``: on-hand moves, Beijing dates, windows of at most
        31 days, assumed oldest first). The cursor is always returned; ``has_more`` says whether
        to ask again now. Reservations do not move on-hand, so they appear with the next move or
        the periodic reconciliation."""
        kind, first, second = self._parse_cursor(cursor)
        if kind == "snap":
            page, start = int(first), second
            records, count = self._inventory_page({}, page, "inventory_changes")
            if records and page * self.inventory_page_size < count:
                return StockPage(tuple(records), self._cursor("snap", page + 1, start), has_more=True)
            return StockPage(tuple(records), self._cursor("log", start, 0), has_more=True)
        return self._log_page(date.fromisoformat(first), int(second))

    def _log_page(self, start: date, offset: int) -> StockPage:
        size = self.inventory_page_size
        end = start + timedelta(days=self.log_window_days)
        body = self._call("inventory_changes", "inventory/get_inventory_log",
                          {"page": offset // size + 1, "pageSize": size,
                           "create_date_from": start.isoformat(), "create_date_end": end.isoformat()})
        rows = list(body.get("data") or ())[offset % size:]
        count = gm.integer(body.get("count"))
        offset += len(rows)
        pairs = list(dict.fromkeys((str(r["warehouse_code"]), str(r["product_sku"])) for r in rows))
        records = self._stock_of(pairs)
        if rows and offset < count:
            return StockPage(records, self._cursor("log", start.isoformat(), offset), has_more=True)
        if end < gm.beijing_today():  # the window is closed: move to the next one
            return StockPage(records, self._cursor("log", (end + timedelta(days=1)).isoformat(), 0), has_more=True)
        return StockPage(records, self._cursor("log", start.isoformat(), offset), has_more=False)

    def _stock_of(self, pairs: list[tuple[str, str]]) -> tuple[StockRecord, ...]:
        if not pairs:
            return ()
        wanted, found = set(pairs), {}
        skus = list(dict.fromkeys(sku for _, sku in pairs))
        warehouses = list(dict.fromkeys(wh for wh, _ in pairs))
        for s in range(0, len(skus), 200):
            for w in range(0, len(warehouses), 20):
                filters = {"product_sku_arr": skus[s:s + 200], "warehouse_code_arr": warehouses[w:w + 20]}
                for record in self._inventory(filters, "inventory_changes"):
                    if (record.warehouse_code, record.sku) in wanted:
                        found[(record.warehouse_code, record.sku)] = record
        return tuple(found[p] for p in pairs if p in found)

    def _parse_cursor(self, cursor: str | None) -> tuple[str, str, str]:
        if cursor is None:
            return "snap", "1", gm.beijing_today().isoformat()
        parts = cursor.split(":")
        try:
            if len(parts) != 4 or parts[0] != CURSOR_VERSION or parts[1] not in ("snap", "log"):
                raise ValueError(cursor)
            number, day = (parts[2], parts[3]) if parts[1] == "snap" else (parts[3], parts[2])
            if int(number) < 0:
                raise ValueError(cursor)
            date.fromisoformat(day)
        except ValueError:
            raise PermanentError(f"not a Goodcang inventory cursor: {cursor!r}", field="cursor",
                                 system=self.name, operation="inventory_changes") from None
        return parts[1], parts[2], parts[3]

    @staticmethod
    def _cursor(kind: str, first, second) -> str:
        return f"{CURSOR_VERSION}:{kind}:{first}:{second}"

    # -- inbound and returns -----------------------------------------------------------------

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        payload = gm.grn_payload(request)
        try:
            body = self._call("create_inbound", "inbound_order/create_grn", payload)
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not gm.is_duplicate(exc):
                raise
            found = self._call("create_inbound", "inbound_order/get_grn_list",
                               {"page": 1, "pageSize": 10, "reference_no": request.reference})
            rows = [r for r in found.get("data") or () if r.get("reference_no") == request.reference]
            if not rows:
                raise
            status = str(rows[0].get("receiving_status", ""))
            return InboundShipment(request.reference, str(rows[0]["receiving_code"]), gm.GRN_STATUS.get(status, status))
        code = (body.get("data") or {}).get("receiving_code") or ""
        return InboundShipment(request.reference, str(code), "submitted" if payload["verify"] else "draft")

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        """A customer return of a shipped order; Goodcang issues return labels as files
        (``return_order/label``), so ``label_url`` stays None."""
        order = self._order(request.outbound_reference, "create_return")
        payload = gm.return_payload(request, str(order["order_code"]), str(order["warehouse_code"]))
        try:
            body = self._call("create_return", "return_order/create", payload)
            code, status = (body.get("data") or {}).get("asro_code") or "", "1"
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not gm.is_duplicate(exc):
                raise
            found = self._call("create_return", "return_order/search", {"reference_no": request.reference})
            rows = [r for r in found.get("data") or () if r.get("reference_no") == request.reference]
            if not rows:
                raise
            code, status = rows[0]["asro_code"], str(rows[0].get("asro_status", ""))
        return ReturnAuthorization(request.reference, str(code), gm.RETURN_STATUS.get(status, status))

    # -- webhooks ----------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        raise PermanentError("Goodcang sends no signed webhooks; poll inventory_changes and get_outbound",
                             code="unsupported", system=self.name, operation="parse_webhook")


def _retry_after(response: requests.Response, default: float | None) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def _external_id(body: dict) -> str | None:
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    for source in (body, data):
        for key in ("order_code", "receiving_code", "asro_code", "product_sku"):
            if source.get(key):
                return str(source[key])
    return None
