"""ShipBob (https://developer.shipbob.com) behind the WarehouseProvider port.

Credentials (one ShipBob account = one merchant):

* ``token``: a Personal Access Token (Integrations > API Tokens), sent as ``Authorization: Bearer``;
* ``channel_id``: the channel with ``_write`` scopes (``GET /channel``), sent as the
  ``shipbob_channel_id`` header on calls that create or read channel-owned records (orders,
  returns). ``reference_id`` is unique per channel;
* ``webhook_secret``: the ``whsec_…`` secret of our webhook subscription (``POST /webhook``
  returns it; :meth:`ShipBobProvider.create_webhook_subscription` does that call);
* ``api_version`` (optional): the dated version in every path, default ``2026-07`` (the first
  version whose webhooks include ``order.shipment.tracking.updated``; versions are supported 24
  months: https://developer.shipbob.com/versioning).

Rate limit: 150 requests per minute per user and application, sliding window, 429 with
``x-retry-after`` seconds (https://developer.shipbob.com/rate-limit). The shared Redis token bucket
budgets ``burst + rate * 60 = 145`` so a full bucket can never push a worker fleet past 150 in any
window, with a little slack for network jitter.

Idempotency: a second ``POST /order`` with the same ``reference_id`` answers 422 ("Duplicate
reference ID", https://developer.shipbob.com/errors; body ``{"": ["Cannot insert order with
existing ReferenceId"]}``), so a retried create looks the order up by ``ReferenceIds`` and returns it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connectors.errors import AuthError, PermanentError
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
    StockPage,
    StockRecord,
    TrackingEvent,
    WarehouseEvent,
    WarehouseSite,
)

from . import shipbob_webhooks
from .shipbob_http import ShipBobHttp
from .shipbob_mapping import (
    WRO_STATES,
    center_site,
    fingerprint,
    iso,
    level_records,
    order_body,
    order_to_outbound,
    unmapped_statuses,
    variant_body,
)
from .shipbob_returns import ShipBobReturns
from .shipbob_tracking import timeline_events, unmapped_tracking

CURSOR_PREFIX = "v1:"
PENDING_TTL_S = 7 * 86400


@register
class ShipBobProvider(ShipBobReturns, ShipBobHttp):
    name = "shipbob"
    capabilities = frozenset({Capability.PUSH_SHIPMENTS, Capability.INVENTORY_CURSOR, Capability.INBOUND,
                              Capability.CANCEL_INBOUND, Capability.RETURNS})
    default_endpoint = "https://api.shipbob.com"
    rate_per_second = 140 / 60
    burst = 5.0
    page_size = 100

    def __init__(self, credentials: Mapping[str, str], *, redis, account_key: str, endpoint: str | None = None,
                 session: requests.Session | None = None, on_call=None, on_unknown=None) -> None:
        super().__init__(credentials, redis=redis, account_key=account_key, endpoint=endpoint, session=session,
                         on_call=on_call, on_unknown=on_unknown)
        missing = [key for key in ("token", "channel_id") if not self.credentials.get(key)]
        if missing:
            raise AuthError(f"ShipBob credentials lack {', '.join(missing)}", field=missing, code="missing_credentials",
                            system=self.name)
        if not str(self.credentials["channel_id"]).strip().isdigit():
            raise AuthError("ShipBob channel_id must be the numeric id from GET /channel", field="channel_id",
                            code="missing_credentials", system=self.name)
        self.redis = redis
        self.account_key = account_key
        self.api_version = self.credentials.get("api_version") or type(self).api_version
        self._inventory_ids: dict[str, int] = {}

    # -- lookups -------------------------------------------------------------------------------

    def _find_order(self, reference: str, operation: str) -> dict | None:
        _, data = self._call(operation, "GET", "/order", params={"ReferenceIds": reference}, channel=True,
                             external_id=reference)
        for order in data or []:
            if order.get("reference_id") == reference:
                return order
        return None

    def _order(self, reference: str, operation: str) -> dict:
        order = self._find_order(reference, operation)
        if order is None:
            raise PermanentError(f"no ShipBob order with reference_id {reference!r}", field="reference",
                                 code="not_found", system=self.name, operation=operation)
        return order

    def _find_variant(self, sku: str, operation: str) -> tuple[dict | None, dict | None]:
        for items in self._pages(operation, "/product", {"SKU": sku}):
            for product in items:
                for variant in product.get("variants") or []:
                    if variant.get("sku") == sku:
                        return product, variant
        return None, None

    def _inventory_id(self, sku: str, operation: str) -> int | None:
        if sku not in self._inventory_ids:
            for items in self._pages(operation, "/inventory", {"SearchBy": sku}):
                for item in items:  # SearchBy is a partial match: keep the exact SKU only
                    if item.get("sku") == sku:
                        self._inventory_ids[sku] = int(item["inventory_id"])
        return self._inventory_ids.get(sku)

    # -- catalogue -----------------------------------------------------------------------------

    def list_warehouses(self) -> list[WarehouseSite]:
        _, data = self._call("list_warehouses", "GET", "/fulfillment-center")
        sites = []
        for fc in data or []:
            site = center_site(fc)
            if site.country_code is None and fc.get("country"):
                self._unknown("fulfillment_center.country", fc["country"], site.code)
            sites.append(site)
        return sites

    def upsert_sku(self, spec: SkuSpec) -> None:
        product, variant = self._find_variant(spec.sku, "upsert_sku")
        body = variant_body(spec)
        if variant is None:
            response, data = self._call("upsert_sku", "POST", "/product", allow=(422,), external_id=spec.sku,
                                        body={"name": spec.title, "type_id": 1, "variants": [body]})
            if response.status_code != 422:
                return
            product, variant = self._find_variant(spec.sku, "upsert_sku")  # created meanwhile by another worker
            if variant is None:
                raise self._error("upsert_sku", response, data)
        self._call("upsert_sku", "PATCH", f"/product/{product['id']}/variants", external_id=spec.sku,
                   body=[{"id": variant["id"], **body}])

    # -- outbound ------------------------------------------------------------------------------

    def create_outbound(self, request: OutboundRequest) -> Outbound:
        try:
            body = order_body(request)
        except ValueError:
            raise PermanentError(f"ShipBob fulfillment center ids are numeric, got {request.warehouse_code!r}",
                                 field="warehouse_code", code="bad_request", system=self.name,
                                 operation="create_outbound") from None
        response, data = self._call("create_outbound", "POST", "/order", body=body, channel=True, allow=(422,),
                                    external_id=request.reference)
        if response.status_code == 422:
            # Duplicate reference_id: the first attempt went through (or another worker's did).
            existing = self._find_order(request.reference, "create_outbound")
            if existing is None:
                raise self._error("create_outbound", response, data)
            return self._outbound(existing)
        return self._outbound(data)

    def get_outbound(self, reference: str) -> Outbound:
        return self._outbound(self._order(reference, "get_outbound"))

    def _outbound(self, order: dict) -> Outbound:
        for field, value in unmapped_statuses(order):
            self._unknown(field, value, order.get("reference_id") or "")
        return order_to_outbound(order)

    def cancel_outbound(self, reference: str) -> Outbound:
        order = self._order(reference, "cancel_outbound")
        current = self._outbound(order)
        if current.status is OutboundStatus.CANCELLED:
            return current
        _, data = self._call("cancel_outbound", "POST", f"/order/{order['id']}:cancel", channel=True,
                             external_id=reference)
        data = data or {}
        if data.get("status") == "Failure":
            reasons = "; ".join(r.get("reason") or "" for r in data.get("canceled_shipment_results") or [])
            raise PermanentError(f"ShipBob refused to cancel {reference}: {reasons or 'not cancellable'}",
                                 code="not_cancellable", system=self.name, operation="cancel_outbound")
        if data.get("order"):
            return self._outbound(data["order"])
        return self.get_outbound(reference)

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        order = self._order(reference, "tracking_events")
        events: list[TrackingEvent] = []
        for shipment in order.get("shipments") or []:
            if not (shipment.get("tracking") or {}).get("tracking_number"):
                continue
            _, logs = self._call("tracking_events", "GET", f"/shipment/{shipment['id']}/timeline",
                                 external_id=reference)
            events.extend(timeline_events(shipment, logs or []))
        for raw in unmapped_tracking(events):
            self._unknown("tracking.status", raw, reference)
        return sorted(events, key=lambda e: e.occurred_at)

    # -- inventory -----------------------------------------------------------------------------

    def get_inventory(self, warehouse_code: str | None = None, skus: Sequence[str] | None = None
                      ) -> list[StockRecord]:
        params: dict[str, Any] = {"PageSize": self.page_size}
        if warehouse_code:
            params["LocationId"] = warehouse_code
        if skus and len(skus) == 1:
            params["SearchBy"] = skus[0]
        wanted = set(skus) if skus else None
        now = datetime.now(UTC)
        records = []
        for items in self._pages("get_inventory", "/inventory-level/locations", params):
            for item in items:
                if wanted is None or item.get("sku") in wanted:
                    records.extend(level_records(item, location_id=warehouse_code, as_of=now))
        return records

    def inventory_changes(self, cursor: str | None) -> StockPage:
        """ShipBob has no inventory change feed usable for this (``inventory/history:query``, from
        2026-01, needs one call per facility and only reports on-hand movements, not the
        commitments that change what is available; there are no inventory webhooks). So one page
        of ``inventory-level/locations`` is read per call and compared with the fingerprints of
        what we already handed out, kept in Redis. A page's fingerprints are committed only when
        the caller comes back with the cursor we returned after it (proof it stored that cursor,
        i.e. processed the page): at-least-once, never lost.

        At the end of a pass ``has_more`` is False and ``next_cursor`` is the restart cursor
        ``"v1:"`` (not None: None is also where a first-ever caller starts, so a retried first
        call could not be told from the acknowledgement of a finished pass). Store it and ask
        again later; the next pass reports only what changed since."""
        if cursor is not None and not cursor.startswith(CURSOR_PREFIX):
            raise PermanentError("not a ShipBob inventory cursor", field="cursor", code="bad_request",
                                 system=self.name, operation="inventory_changes")
        base = f"nearstock:shipbob:{self.account_key}:stock"
        self._acknowledge(base, cursor)
        path = (cursor or CURSOR_PREFIX)[len(CURSOR_PREFIX):]
        first = {"PageSize": self.page_size}
        try:
            _, data = self._call("inventory_changes", "GET", path or "/inventory-level/locations",
                                 params=None if path else first)
        except PermanentError as exc:
            if not path or exc.code not in ("bad_request", "not_found"):
                raise
            # A paging link ShipBob no longer honours (expired cursor): start the pass again.
            _, data = self._call("inventory_changes", "GET", "/inventory-level/locations", params=first)
        data = data or {}
        now = datetime.now(UTC)
        records = [r for item in data.get("items") or [] for r in level_records(item, as_of=now)]
        fields = [f"{r.sku}|{r.warehouse_code}" for r in records]
        known = self.redis.hmget(f"{base}:seen", fields) if fields else []
        changed = [(f, r) for f, r, old in zip(fields, records, known, strict=True)
                   if (old.decode() if isinstance(old, bytes) else old) != fingerprint(r)]
        next_path = data.get("next")
        next_cursor = f"{CURSOR_PREFIX}{next_path or ''}"
        if changed:
            pending = self._pending_key(base, next_cursor)
            pipe = self.redis.pipeline()
            pipe.hset(pending, mapping={f: fingerprint(r) for f, r in changed})
            pipe.expire(pending, PENDING_TTL_S)
            pipe.sadd(f"{base}:pending", pending)
            pipe.expire(f"{base}:pending", PENDING_TTL_S)
            pipe.execute()
        return StockPage(records=tuple(r for _, r in changed), next_cursor=next_cursor, has_more=bool(next_path))

    @staticmethod
    def _pending_key(base: str, cursor: str | None) -> str:
        return f"{base}:pending:{hashlib.sha256((cursor or '<none>').encode()).hexdigest()[:24]}"

    def _acknowledge(self, base: str, cursor: str | None) -> None:
        """The caller is back with ``cursor``: commit what we returned with it, drop stale pages."""
        pending = self._pending_key(base, cursor)
        values = self.redis.hgetall(pending)
        stale = {k.decode() if isinstance(k, bytes) else k for k in self.redis.smembers(f"{base}:pending")}
        pipe = self.redis.pipeline()
        if values:
            pipe.hset(f"{base}:seen", mapping=values)
        for key in stale | {pending}:
            pipe.delete(key)
        pipe.delete(f"{base}:pending")
        pipe.execute()

    # -- inbound and returns -------------------------------------------------------------------

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        """A Warehouse Receiving Order. WROs have no unique key, so our reference goes into
        ``purchase_order_number`` and is looked up first (a concurrent duplicate is possible but
        harmless: ShipBob receives what arrives)."""
        _, existing = self._call("create_inbound", "GET", "/receiving",
                                 params={"PurchaseOrderNumbers": request.reference}, external_id=request.reference)
        for wro in existing or []:
            if wro.get("purchase_order_number") == request.reference and wro.get("status") != "Cancelled":
                return InboundShipment(request.reference, str(wro["id"]), wro.get("status") or "")
        items = []
        for index, line in enumerate(request.lines):
            inventory_id = self._inventory_id(line.sku, "create_inbound")
            if inventory_id is None:
                raise PermanentError(f"SKU {line.sku!r} is not a ShipBob product", field=f"lines[{index}].sku",
                                     code="unknown_sku", system=self.name, operation="create_inbound")
            items.append({"inventory_id": inventory_id, "quantity": line.quantity})
        try:
            center = int(request.warehouse_code)
        except ValueError:
            raise PermanentError("ShipBob fulfillment center ids are numeric", field="warehouse_code",
                                 code="bad_request", system=self.name, operation="create_inbound") from None
        arrival = request.expected_at or datetime.now(UTC) + timedelta(days=7)
        body = {"fulfillment_center": {"id": center}, "purchase_order_number": request.reference,
                "expected_arrival_date": iso(arrival), "box_packaging_type": "EverythingInOneBox",
                "package_type": "Package",
                "boxes": [{"tracking_number": request.tracking_number or request.reference, "box_items": items}]}
        _, wro = self._call("create_inbound", "POST", "/receiving", body=body, external_id=request.reference)
        return InboundShipment(request.reference, str(wro["id"]), wro.get("status") or "")

    def get_inbound(self, reference: str, external_id: str) -> InboundShipment:
        return self._wro("get_inbound", "GET", f"/receiving/{self._wro_id(external_id)}", reference)

    def cancel_inbound(self, reference: str, external_id: str) -> InboundShipment:
        """``POST /receiving/{id}:cancel``: only a WRO still awaiting arrival (422 otherwise)."""
        return self._wro("cancel_inbound", "POST", f"/receiving/{self._wro_id(external_id)}:cancel", reference)

    def _wro_id(self, external_id: str) -> int:
        if not external_id.isdigit():
            raise PermanentError("ShipBob WRO ids are numeric", field="external_id", code="bad_request",
                                 system=self.name, operation="get_inbound")
        return int(external_id)

    def _wro(self, operation: str, method: str, path: str, reference: str) -> InboundShipment:
        _, wro = self._call(operation, method, path, external_id=reference)
        if not isinstance(wro, dict) or wro.get("purchase_order_number") != reference:
            raise PermanentError(f"ShipBob WRO at {path} is not {reference!r}", field="reference", code="not_found",
                                 system=self.name, operation=operation)
        word = str(wro.get("status") or "")
        state = WRO_STATES.get(word)
        if state is None:
            self._unknown("wro.status", word, reference)
        return InboundShipment(reference, str(wro["id"]), (state or InboundStatus.CREATED).value)

    # -- webhooks ------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        # A webhook is only a trigger: the job re-reads the order (get_outbound), which reports
        # any status we do not know.
        return shipbob_webhooks.parse(headers, body, self.credentials.get("webhook_secret", ""))

    def create_webhook_subscription(self, url: str, topics: Sequence[str], *, description: str | None = None,
                                    secret: str | None = None) -> dict:
        """``POST /webhook``; the answer carries the ``secret`` to store as ``webhook_secret``."""
        body: dict[str, Any] = {"url": url, "topics": list(topics)}
        if description:
            body["description"] = description
        if secret:
            body["secret"] = secret
        _, data = self._call("create_webhook_subscription", "POST", "/webhook", body=body)
        return data
