"""Goodcang (谷仓海外仓) behind :class:`~integration.domain.ports.WarehouseProvider`.

Goodcang's open API is one JSON ``POST`` per action to ``https://oms.goodcang.net/public_open/
<module>/<action>`` (sandbox: ``https://uat-oms.eminxing.com/public_open``), authenticated by two
headers, ``app-key`` and ``app-token`` (sdk:GoodCangClient.java, ``sdk:`` being the public SDK
``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``). Answers are
``{"ask": "Success"|"Failure", "message", "data", "Error": {"errCode", "errMessage"}}`` or the
"v2" ``{"code": 1, "message", "data"}`` (sdk:ResponseAsk.java); lists add ``count`` (the total),
``nextPage`` and ``pagination`` (sdk:ResponsePage.java). Every time is Beijing time.

Credentials (the ``credentials`` mapping):

* ``app_key`` - the account's App Key (Goodcang OMS > 我的 > 开发者信息).
* ``app_token`` - the account's App Token (same page).
* optional ``product_link`` - template of the product page link Goodcang requires for a new SKU
  (``{sku}`` is replaced); ``category_id`` - Goodcang level-2 category id (``cat_id_level2``) for
  new SKUs; ``material`` - declared material of new SKUs.

Errors: HTTP 401 or an auth failure -> :class:`AuthError`; HTTP 403/429 or a "too frequent"
failure -> :class:`RetryableError` (``retry_after`` from ``Retry-After``, else 1 s); 5xx,
timeouts, non-JSON answers -> :class:`RetryableError`; other failures -> :class:`PermanentError`
with Goodcang's ``errCode`` as ``code`` and the named request field as ``field`` (the codes and
HTTP statuses are assumed: see :mod:`connectors.warehouses.goodcang_codes`; an errCode not there
is reported). A duplicate reference on create returns the existing order/GRN/return; when it
cannot be found yet the create fails as retryable, never as permanent. Goodcang publishes no
webhook with a verifiable signature, so :meth:`parse_webhook` refuses and no push capability is
declared.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import timedelta

import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import goodcang_codes as codes
from connectors.warehouses import goodcang_errors as ge
from connectors.warehouses import goodcang_mapping as gm
from connectors.warehouses.base import BaseProvider
from connectors.warehouses.goodcang_inventory import GoodcangInventory
from connectors.warehouses.goodcang_returns import GoodcangReturns
from connectors.warehouses.registry import register
from integration.domain.warehousing import (
    Capability,
    InboundRequest,
    InboundShipment,
    InboundStatus,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    SkuSpec,
    TrackingEvent,
    TrackingStatus,
    WarehouseEvent,
    WarehouseSite,
)


@register
class GoodcangProvider(GoodcangReturns, GoodcangInventory, BaseProvider):
    name = "goodcang"
    capabilities = frozenset({Capability.INVENTORY_CURSOR, Capability.INBOUND, Capability.RETURNS})
    default_endpoint = "https://oms.goodcang.net/public_open"
    # No public source: assumed. Goodcang publishes no rate limit; 5 requests/s per account (the
    # emulator enforces the same figure).
    rate_per_second = 5.0
    burst = 5.0
    grn_page_size = 50  # no public source: assumed maximum pageSize of get_grn_list
    grn_lookback_days = 90  # how far back a retried create_grn looks for the GRN it made
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
        failure = ge.failure_of(body) if isinstance(body, dict) else None
        message = failure[1] if failure else (response.reason or f"HTTP {status}")
        if status == 401 or (status == 403 and codes.AUTH_RE.search(message)):
            return body, AuthError(f"Goodcang refused the credentials: {message}", code="401",
                                   system=self.name, operation=operation)
        if status in (403, 429) or status >= 500:
            # No public source: assumed (Goodcang throttling with 403, gateways with 429).
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
            if failure[0] not in codes.KNOWN_ERROR_CODES:
                self._unknown("Error.errCode", failure[0] or "(none)", f"{operation}: {failure[1]}")
            return body, ge.error_for(failure[0], failure[1], payload, operation)
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
            if isinstance(exc, AuthError) or not ge.is_duplicate(exc):
                raise
        try:
            self._call("upsert_sku", "product/edit_product", payload)
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not ge.is_audited(exc):
                raise

    # -- outbound ----------------------------------------------------------------------------

    def create_outbound(self, request: OutboundRequest) -> Outbound:
        """``create_order`` with our reference as ``reference_no``, which Goodcang keeps unique:
        a retry meets "reference exists" and gets the order already created. The answer carries
        ``order_code`` at the top level (sdk:warehouse/OrderCodeResponse.java)."""
        method = request.shipping_service or self._shipping_method(request.warehouse_code)
        try:
            body = self._call("create_outbound", "order/create_order", gm.order_payload(request, method))
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not ge.is_duplicate(exc):
                raise
            return self._existing(request.reference, exc, lambda: self.get_outbound(request.reference))
        return Outbound(reference=request.reference, external_id=str(body.get("order_code") or ""),
                        status=OutboundStatus.RECEIVED, warehouse_code=request.warehouse_code)

    def get_outbound(self, reference: str) -> Outbound:
        data = self._order(reference, "get_outbound")
        delivered = False
        if data.get("order_status") == codes.SHIPPED_STATUS:  # delivered parcels stay "D": ask the tracking
            events = self.tracking_events(reference)
            delivered = bool(events) and events[-1].status is TrackingStatus.DELIVERED
        return gm.outbound(reference, data, delivered=delivered)

    def cancel_outbound(self, reference: str) -> Outbound:
        """``cancel_order`` (sdk:warehouse/CancelOrderPayload.java: order_code, reason). Goodcang
        says done with ``cancel_status`` 2; any other value is reported and the order, read again,
        says where it stands."""
        data = self._order(reference, "cancel_outbound")
        if data.get("order_status") == codes.DISCARDED_STATUS:
            return gm.outbound(reference, data)
        try:
            body = self._call("cancel_outbound", "order/cancel_order",
                              {"order_code": data["order_code"], "reason": "Cancelled by the merchant"})
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not ge.is_discarded(exc):
                raise
        else:
            if str(body.get("cancel_status")) != codes.CANCEL_DONE:
                self._unknown("cancel_order.cancel_status", body.get("cancel_status"), reference)
        return self.get_outbound(reference)

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        """``query_tracking_status`` by reference_no (sdk:GoodCangClient.java queryTrackingStatus);
        a TMS code not in our table is reported and read from the carrier's text."""
        body = self._call("tracking_events", "order/query_tracking_status", {"reference_no": reference})
        events = gm.tracking(body.get("data"))
        for event in events:
            if event.raw_code not in codes.TRACKING_CODES:
                self._unknown("tracking.code", event.raw_code or "(none)", reference)
        return events

    def _order(self, reference: str, operation: str) -> dict:
        body = self._call(operation, "order/get_order_by_ref_code", {"reference_no": reference})
        data = body.get("data")
        if not isinstance(data, dict):
            raise PermanentError(f"Goodcang has no order {reference}", code="no_data", system=self.name,
                                 operation=operation)
        status = str(data.get("order_status") or "")
        if status not in codes.ORDER_STATUS:
            self._unknown("order.order_status", status or "(none)", reference)
        return data

    def _existing(self, reference: str, duplicate: PermanentError, find):
        """What a create that met "already exists" returns: the record ``find`` reads. Not
        finding it (yet) is retryable: the record exists, so a later try will find it."""
        try:
            found = find()
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not ge.is_not_found(exc):
                raise
            found = None
        if found is None:
            raise RetryableError(f"Goodcang says {reference} exists ({duplicate.message}) but does not list it yet",
                                 retry_after=30.0, system=self.name, operation=duplicate.operation)
        return found

    def _shipping_method(self, warehouse: str) -> str:
        if warehouse not in self._shipping_methods:
            # sdk:base/WarehouseCodePayload.java: the key is "warehouseCode"
            body = self._call("shipping_methods", "base_data/get_shipping_method", {"warehouseCode": warehouse})
            codes = [row.get("code") for row in body.get("data") or () if row.get("code")]
            if not codes:
                raise PermanentError(f"Goodcang offers no shipping method at {warehouse}", field="shipping_service",
                                     system=self.name, operation="create_outbound")
            self._shipping_methods[warehouse] = codes[0]
        return self._shipping_methods[warehouse]

    # -- inbound and returns -----------------------------------------------------------------

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        """``create_grn`` (answer: data.receiving_code, sdk:warehouse/ReceivingCodePayload.java).
        A retry meets "reference exists"; ``get_grn_list`` cannot filter by reference_no
        (sdk:warehouse/GrnListPayload.java), so the GRN is found by paging the recent ones."""
        payload = gm.grn_payload(request)
        try:
            body = self._call("create_inbound", "inbound_order/create_grn", payload)
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not ge.is_duplicate(exc):
                raise
            row = self._existing(request.reference, exc, lambda: self._grn(request.reference))
            status = gm.status_of(codes.GRN_STATUS, row.get("receiving_status"))
            if status is None:
                self._unknown("grn.receiving_status", row.get("receiving_status"), request.reference)
            return InboundShipment(request.reference, str(row["receiving_code"]), status or "unknown")
        code = (body.get("data") or {}).get("receiving_code") or ""
        return InboundShipment(request.reference, str(code), "submitted" if payload["verify"] else "draft")

    def get_inbound(self, reference: str, external_id: str) -> InboundShipment:
        """``get_grn_list`` filtered by ``receiving_code_arr`` (sdk:warehouse/GrnListPayload.java)."""
        body = self._call("get_inbound", "inbound_order/get_grn_list",
                          {"receiving_code_arr": [external_id], "page": 1, "pageSize": 1})
        rows = [row for row in body.get("data") or () if str(row.get("receiving_code")) == external_id
                and row.get("reference_no") == reference]
        if not rows:
            raise PermanentError(f"Goodcang has no GRN {external_id} for {reference!r}", field="reference",
                                 code="not_found", system=self.name, operation="get_inbound")
        word = gm.status_of(codes.GRN_STATUS, rows[0].get("receiving_status"))
        if word is None:
            self._unknown("grn.receiving_status", rows[0].get("receiving_status"), reference)
        state = codes.INBOUND_STATES.get(word or "", InboundStatus.CREATED)
        return InboundShipment(reference, external_id, state.value)

    def cancel_inbound(self, reference: str, external_id: str) -> InboundShipment:
        raise PermanentError("Goodcang's open API offers no call to withdraw a GRN", code="unsupported",
                             system=self.name, operation="cancel_inbound")

    def _grn(self, reference: str) -> dict | None:
        """The GRN with this reference_no among those created in the last ``grn_lookback_days``
        (sdk:warehouse/GrnListPayload.java: create_date_from / create_date_to, page, pageSize;
        rows are sdk:warehouse/GrnInfo.java), every page read."""
        today = gm.beijing_today()
        window = {"create_date_from": (today - timedelta(days=self.grn_lookback_days)).isoformat(),
                  "create_date_to": (today + timedelta(days=1)).isoformat()}
        page, seen = 1, 0
        while True:
            body = self._call("create_inbound", "inbound_order/get_grn_list",
                              {**window, "page": page, "pageSize": self.grn_page_size})
            rows = list(body.get("data") or ())
            for row in rows:
                if row.get("reference_no") == reference and row.get("receiving_code"):
                    return row
            seen += len(rows)
            if not gm.more_pages(body, seen, len(rows)):
                return None
            page += 1

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
    """The record number an answer names, at the top level (order_code, product_sku) or in data."""
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    for source in (body, data):
        for key in ("order_code", "receiving_code", "asro_code", "product_sku"):
            if source.get(key):
                return str(source[key])
    return None
