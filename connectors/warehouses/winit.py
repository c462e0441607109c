"""WINIT (万邑通) overseas-warehouse provider over WINIT's open API gateway.

Protocol (https://developer.winit.com.cn/document/detail/id/14 and /id/6, as used by public clients
such as EalenXie/sdk-all winit-sdk): every call is one ``POST`` of a JSON envelope to one gateway,
``https://openapi.winit.com.cn/openapi/service`` (sandbox ``sandboxopenapi.winit.com.cn``)::

    {action, app_key, client_id?, client_sign?, data, format: "json", language: "zh_CN",
     platform, sign, sign_method: "md5", timestamp: "yyyy-MM-dd HH:mm:ss" (Beijing), version: "1.0"}

``sign`` = upper(md5(token + "action"… "version"<value> + token)) over the fields of
:data:`winit_mapping.SIGNED_FIELDS` (WinitClient.java getSign) with ``data`` as sorted, null-free
compact JSON (WINIT re-serialises ``data`` that way to check it); ``client_sign`` is the same with
the client secret. The code modules (the gateway, tables, stock parser, returns) are
winit_gateway, winit_codes, winit_stock, winit_mapping and winit_returns.
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
WINIT may split one outbound order into several (CreateOutboundOrderResponse orderNoList); every
number is kept (Outbound.external_ids) and every operation on the order covers all of them.
Idempotency never rests on the assumed duplicate code alone: a create for a reference that was
attempted before, or one that fails, looks the document up by our reference first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import winit_codes as codes
from connectors.warehouses import winit_mapping as wm
from connectors.warehouses.registry import register
from connectors.warehouses.winit_gateway import WinitGateway
from connectors.warehouses.winit_returns import WinitReturns
from connectors.warehouses.winit_stock import parse_stock
from integration.domain.warehousing import (
    Capability,
    InboundRequest,
    InboundShipment,
    InboundStatus,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    SkuSpec,
    StockPage,
    StockRecord,
    TrackingEvent,
    WarehouseEvent,
    WarehouseSite,
)


@register
class WinitProvider(WinitReturns, WinitGateway):
    capabilities = frozenset({Capability.INVENTORY_CURSOR, Capability.INBOUND, Capability.RETURNS})
    page_size = 100  # queryWarehouseStorage rows per page
    changes_page_size = 50  # inventory ledger rows per page
    lookup_page_size = 50  # rows per page when we look a document up by our reference
    lookup_pages = 40  # at most this many pages per lookup (2,000 documents)
    lookup_days = 180  # how far back we search a document by our reference
    ledger_span_days = 30  # one ledger query covers at most this many days

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
        if self._attempted("outbound", request.reference):
            existing = self._existing_outbound(request.reference)
            if existing is not None:
                return existing
        try:
            result = self._call("create_outbound", "createOutboundOrder", data) or {}
        except AuthError:
            raise
        except PermanentError:
            # A refused retry may be WINIT's duplicate answer under a code we cannot confirm.
            existing = self._existing_outbound(request.reference)
            if existing is None:
                raise
            return existing
        numbers, split = wm.created_numbers(result)
        if split is not None:
            self._unknown("outbound.splitType", split, request.reference)
        if not numbers:
            # The order exists at WINIT but the answer names no number: find it by our reference.
            self._unknown("outbound.create", "answer without orderNo", request.reference)
            existing = self._existing_outbound(request.reference)
            if existing is None:
                raise RetryableError(f"WINIT created {request.reference!r} without naming it; looking it up next time",
                                     system=self.name, operation="create_outbound")
            return existing
        self._remember("outbound", request.reference, numbers)
        return Outbound(reference=request.reference, external_id=numbers[0], status=OutboundStatus.RECEIVED,
                        warehouse_code=request.warehouse_code, updated_at=self.clock(), external_ids=tuple(numbers))

    def cancel_outbound(self, reference: str) -> Outbound:
        refused: list[PermanentError] = []
        for part in self._outbound_parts(reference):
            if part.status is OutboundStatus.CANCELLED:
                continue
            try:
                self._call("cancel_outbound", "voidOutboundOrder", {"outboundOrderNum": part.external_id})
            except PermanentError as exc:  # void the other parts all the same, then report
                refused.append(exc)
        outbound = self.get_outbound(reference)
        if refused and outbound.status is not OutboundStatus.CANCELLED:
            raise refused[0]
        return outbound

    def get_outbound(self, reference: str) -> Outbound:
        return wm.merge_outbound(reference, self._outbound_parts(reference))

    def get_inventory(self, warehouse_code: str | None = None,
                      skus: Sequence[str] | None = None) -> list[StockRecord]:
        sites = [warehouse_code] if warehouse_code else sorted(self._warehouses(refresh=True))
        wanted = set(skus) if skus is not None else None
        records: list[StockRecord] = []
        for code in sites:
            records.extend(r for r in self._storage(code) if wanted is None or r.sku in wanted)
        return records

    def _storage(self, code: str) -> list[StockRecord]:
        warehouse = self._warehouse(code)
        rows: list = []
        page = 1
        while True:
            result = self._call("get_inventory", "queryWarehouseStorage", {
                "warehouseID": str(warehouse["warehouseID"]), "pageNum": page, "pageSize": self.page_size}) or {}
            found = result.get("list") or []
            # oswh/deser/WarehouseStorageDeserializer.java: a single row may come as an object.
            rows.extend([found] if isinstance(found, Mapping) else found)
            if not found or page * self.page_size >= wm.to_int(result.get("total")):
                break
            page += 1
        records, problems = parse_stock(rows, code, self.clock())
        for problem in problems:
            self._unknown(problem.field, problem.value, f"{code}/{problem.sku}")
        return records

    def inventory_changes(self, cursor: str | None) -> StockPage:
        """Stock of the SKUs whose ledger (winit.inventory.pageInvInouts, 库存流水) moved since
        ``cursor``. The cursor is opaque: a start date and the rows already consumed from it. It is
        always returned (store it); ``has_more`` says a next page is ready now."""
        today = self.clock().astimezone(wm.BEIJING).date()
        # No cursor: start a week back (the first sync takes a full get_inventory snapshot anyway).
        start, consumed = wm.decode_cursor(cursor, default=today - timedelta(days=7))
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
        return StockPage(records=tuple(records), next_cursor=wm.encode_cursor(start, consumed), has_more=has_more)

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        product = self.credentials.get("inbound_product_code")
        if not product:
            raise PermanentError("WINIT inbound needs credentials['inbound_product_code']",
                                 field="inbound_product_code", code="missing_credential", system=self.name)
        self._warehouse(request.warehouse_code)
        known = self._remembered("inbound", request.reference)
        if known:
            return InboundShipment(reference=request.reference, external_id=known[0], status="created")
        if self._attempted("inbound", request.reference):
            found = self._find_inbound(request)
            if found is not None:
                return found
        try:
            result = self._call("create_inbound", "winit.wh.inbound.order.create",
                                wm.inbound_payload(request, product_code=product)) or {}
        except AuthError:
            raise
        except PermanentError:
            found = self._find_inbound(request)  # a refused retry: it may exist already
            if found is None:
                raise
            return found
        number = str(result.get("orderNo") or "") if isinstance(result, Mapping) else ""  # oswh/OrderNoPayload.java
        if not number:
            found = self._find_inbound(request)
            if found is None:
                raise RetryableError(f"WINIT created inbound {request.reference!r} without naming it",
                                     system=self.name, operation="create_inbound")
            return found
        self._remember("inbound", request.reference, [number])
        return InboundShipment(reference=request.reference, external_id=number, status="created")

    def get_inbound(self, reference: str, external_id: str) -> InboundShipment:
        """winit.wh.inbound.getOrderDetail (oswh/OrderResponse.java), checked against our reference."""
        detail = self._call("get_inbound", "winit.wh.inbound.getOrderDetail",
                            {"orderNo": external_id, "isIncludePackage": "N"}) or {}
        if detail.get("sellerOrderNo") != reference:
            raise codes.WinitNotFoundError(f"WINIT inbound {external_id} is not {reference!r}", field="reference",
                                           code="not_found", system=self.name, operation="get_inbound")
        word = self._status_of(codes.INBOUND_STATUS, "inbound.status", detail.get("status"), reference)
        state = codes.INBOUND_STATES.get(word, InboundStatus.CREATED)
        return InboundShipment(reference=reference, external_id=external_id, status=state.value)

    def cancel_inbound(self, reference: str, external_id: str) -> InboundShipment:
        raise PermanentError("WINIT inbound orders are voided in the WINIT console, not through the API",
                             code="unsupported", system=self.name, operation="cancel_inbound")

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        events: list[TrackingEvent] = []
        unknown: list[str] = []
        # One call per WINIT order: the separator trackingnos takes for several is not published.
        for number in self._outbound_numbers(reference):
            entries = self._call("tracking_events", "tracking.getOrderVerdorTracking", {"trackingnos": number}) or []
            found, codes_seen = wm.parse_tracking(entries, number)
            events.extend(found)
            unknown.extend(code for code in codes_seen if code not in unknown)
        for code in unknown:
            self._unknown("tracking.eventCode", code, reference)
        events.sort(key=lambda event: event.occurred_at)
        return events

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        raise PermanentError("WINIT sends no webhooks; poll inventory_changes and get_outbound",
                             code="unsupported", system=self.name, operation="parse_webhook")

    # -- our reference -> WINIT documents ----------------------------------------------------

    def _window(self) -> tuple[str, str]:
        now = self.clock()
        return wm.format_date(now - timedelta(days=self.lookup_days)), wm.format_date(now + timedelta(days=2))

    def _find_outbound(self, reference: str) -> list[str]:
        """Every WINIT order number whose sellerOrderNo is ``reference`` (queryOutboundOrderList,
        oswh/QueryOutboundOrderPayload.java; rows oswh/OutboundOrder.java: documentNo), oldest first."""
        start, end = self._window()
        numbers: list[str] = []
        size = self.lookup_page_size
        for page in range(1, self.lookup_pages + 1):
            found = self._call("find_outbound", "queryOutboundOrderList", {
                "sellerOrderNo": reference, "pageNum": page, "pageSize": size,
                "dateOrderedStartDate": start, "dateOrderedEndDate": end}) or {}
            rows = found.get("list") or []
            numbers.extend(str(row["documentNo"]) for row in rows if row.get("sellerOrderNo") == reference
                           and row.get("documentNo") and str(row["documentNo"]) not in numbers)
            if len(rows) < size or page * size >= wm.to_int(found.get("total")):
                break
        return numbers

    def _outbound_numbers(self, reference: str, *, cached: bool = True) -> list[str]:
        numbers = self._remembered("outbound", reference) if cached else None
        if not numbers:
            numbers = self._find_outbound(reference)
            if not numbers:
                raise codes.WinitNotFoundError(f"WINIT has no outbound order for {reference!r}", field="reference",
                                               code="not_found", system=self.name, operation="find_outbound")
            self._remember("outbound", reference, numbers)
        return numbers

    def _existing_outbound(self, reference: str) -> Outbound | None:
        numbers = self._remembered("outbound", reference) or self._find_outbound(reference)
        if not numbers:
            return None
        self._remember("outbound", reference, numbers)
        return self.get_outbound(reference)

    def _outbound_parts(self, reference: str) -> list[Outbound]:
        """Each WINIT order of ``reference`` as an Outbound; an unknown status is reported."""
        try:
            return [self._outbound_part(reference, number) for number in self._outbound_numbers(reference)]
        except codes.WinitNotFoundError:
            self._forget("outbound", reference)  # a stale cached number: looked up again once
        return [self._outbound_part(reference, number) for number in self._outbound_numbers(reference, cached=False)]

    def _outbound_part(self, reference: str, number: str) -> Outbound:
        result = self._call("get_outbound", "queryOutboundOrder", {"outboundOrderNum": number}) or {}
        rows = result.get("list") or []
        if not rows:
            raise codes.WinitNotFoundError(f"WINIT has no outbound order {number}", field="reference",
                                           code="not_found", system=self.name, operation="get_outbound")
        part, unknown = wm.parse_outbound(reference, rows[0])
        if unknown is not None:
            self._unknown("outbound.status", unknown, reference)
        return part

    def _find_inbound(self, request: InboundRequest) -> InboundShipment | None:
        """winit.wh.inbound.getOrderList (oswh/InboundOrderQueryParams.java) rows
        (oswh/OrderPayload.java, under ``orderList``) carry no sellerOrderNo: each row with our
        item count is opened with getOrderDetail (oswh/OrderResponse.java), which does."""
        start, end = self._window()
        items = sum(line.quantity for line in request.lines)
        size = self.lookup_page_size
        for page in range(1, self.lookup_pages + 1):
            result = self._call("find_inbound", "winit.wh.inbound.getOrderList", {
                "destinationWareHouseCode": request.warehouse_code, "orderCreateDateStart": start,
                "orderCreateDateEnd": end, "pageParams": {"pageNo": page, "pageSize": size}}) or {}
            rows = result.get("orderList") or []
            for row in rows:
                if not row.get("orderNo") or row.get("totalItemQty") not in (None, "", items, str(items)):
                    continue
                detail = self._call("find_inbound", "winit.wh.inbound.getOrderDetail",
                                    {"orderNo": str(row["orderNo"]), "isIncludePackage": "N"}) or {}
                if detail.get("sellerOrderNo") == request.reference:
                    self._remember("inbound", request.reference, [str(row["orderNo"])])
                    return InboundShipment(reference=request.reference, external_id=str(row["orderNo"]),
                                           status=self._status_of(codes.INBOUND_STATUS, "inbound.status",
                                                                  detail.get("status"), request.reference))
            if len(rows) < size:  # the answer's pageParams carries no total (oswh/InboundOrderResponse.java)
                break
        return None

    def _status_of(self, table: Mapping[str, str], field: str, code, reference: str) -> str:
        if code in table:
            return table[code]
        self._unknown(field, code, reference)
        return "unknown"

