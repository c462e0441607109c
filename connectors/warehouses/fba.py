"""Fulfillment by Amazon behind the WarehouseProvider port: FBA stock and Multi-Channel Fulfillment.

One provider account = one seller account; its warehouses are the seller's marketplaces (FBA stock
is pooled per marketplace: ``granularityType=Marketplace``). Credentials:

* ``client_id``, ``client_secret``: our LWA application; ``refresh_token``: the seller's (see
  :mod:`connectors.amazon.auth`); ``selling_partner_id``;
* ``marketplace_ids``: comma-separated marketplace ids (the warehouse codes);
* ``lwa_token_url`` (optional): another LWA endpoint (the emulator).

Outbound orders are MCF fulfillment orders with our reference as ``sellerFulfillmentOrderId`` (at
most 40 characters): a retried create that meets "already exists" reads the order instead.
Inventory: ``getInventorySummaries`` pages are fetched back to back because a ``nextToken`` dies
30 s after it was issued; an expired token restarts the listing once. Tracking: package numbers of
``getFulfillmentOrder`` -> ``getPackageTrackingDetails`` -> the domain's TrackingStatus taxonomy.
https://developer-docs.amazon.com/sp-api/docs/fulfillment-outbound-api-v2020-07-01-reference
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import requests

from connectors.amazon.client import LwaCredentials, SpApiClient, country_of, iso, marketplace
from connectors.errors import PermanentError
from connectors.warehouses.base import BaseProvider
from connectors.warehouses.registry import register
from integration.domain.warehousing import (
    Capability,
    ExceptionReason,
    InboundRequest,
    InboundShipment,
    Line,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    Package,
    ReturnAuthorization,
    ReturnRequest,
    ReturnStatus,
    SkuSpec,
    StockPage,
    StockRecord,
    TrackingEvent,
    TrackingStatus,
    WarehouseEvent,
    WarehouseSite,
)

CURSOR_PREFIX = "v1:"
SKUS_PER_REQUEST = 50  # sellerSkus maxItems
PAGE_WAIT = 20.0  # longest wait for the next page's rate-limit token: nextToken lives 30 s
CURSOR_OVERLAP = timedelta(minutes=2)
_S, _E = TrackingStatus, ExceptionReason
# EventCode (fulfillmentOutbound_2020-07-01 EventCode enum) -> (status, exception reason)
EVENTS: dict[str, tuple[TrackingStatus, ExceptionReason | None]] = {
    "EVENT_101": (_S.INFO_RECEIVED, None), "EVENT_102": (_S.IN_TRANSIT, None), "EVENT_201": (_S.IN_TRANSIT, None),
    "EVENT_202": (_S.IN_TRANSIT, None), "EVENT_203": (_S.IN_TRANSIT, None), "EVENT_204": (_S.IN_TRANSIT, None),
    "EVENT_205": (_S.IN_TRANSIT, None), "EVENT_206": (_S.IN_TRANSIT, None), "EVENT_301": (_S.DELIVERED, None),
    "EVENT_302": (_S.OUT_FOR_DELIVERY, None), "EVENT_304": (_S.ATTEMPT_FAIL, _E.FAILED_ATTEMPT),
    "EVENT_306": (_S.ATTEMPT_FAIL, _E.FAILED_ATTEMPT), "EVENT_307": (_S.IN_TRANSIT, None),
    "EVENT_308": (_S.AVAILABLE_FOR_PICKUP, None), "EVENT_309": (_S.EXCEPTION, _E.RETURNED_TO_SENDER),
    "EVENT_401": (_S.EXCEPTION, _E.ADDRESS_PROBLEM), "EVENT_402": (_S.EXCEPTION, _E.CUSTOMS_DELAY),
    "EVENT_403": (_S.EXCEPTION, _E.ADDRESS_PROBLEM), "EVENT_404": (_S.EXCEPTION, _E.DELIVERY_DELAY),
    "EVENT_405": (_S.EXCEPTION, _E.DAMAGED), "EVENT_406": (_S.EXCEPTION, _E.DELIVERY_DELAY),
    "EVENT_407": (_S.EXCEPTION, _E.RETURNED_TO_SENDER), "EVENT_408": (_S.EXCEPTION, _E.RETURNED_TO_SENDER),
    "EVENT_409": (_S.EXCEPTION, _E.LOST), "EVENT_411": (_S.EXCEPTION, _E.CUSTOMS_DELAY),
    "EVENT_412": (_S.EXCEPTION, _E.CUSTOMS_DELAY), "EVENT_413": (_S.EXCEPTION, _E.CUSTOMS_DELAY),
    "EVENT_414": (_S.EXCEPTION, _E.DELIVERY_DELAY), "EVENT_415": (_S.IN_TRANSIT, None),
    "EVENT_416": (_S.EXCEPTION, _E.ADDRESS_PROBLEM), "EVENT_417": (_S.EXCEPTION, _E.DELIVERY_DELAY),
    "EVENT_418": (_S.EXCEPTION, _E.DELIVERY_DELAY), "EVENT_419": (_S.IN_TRANSIT, None),
    "EVENT_801": (_S.AVAILABLE_FOR_PICKUP, None), "EVENT_804": (_S.DELIVERED, None),
}
# CurrentStatus -> (status, reason), for a package without events yet
CURRENT: dict[str, tuple[TrackingStatus, ExceptionReason | None]] = {
    "IN_TRANSIT": (_S.IN_TRANSIT, None), "DELIVERED": (_S.DELIVERED, None),
    "OUT_FOR_DELIVERY": (_S.OUT_FOR_DELIVERY, None), "DELIVERY_ATTEMPTED": (_S.ATTEMPT_FAIL, _E.FAILED_ATTEMPT),
    "AVAILABLE_FOR_PICKUP": (_S.AVAILABLE_FOR_PICKUP, None), "DELAYED": (_S.EXCEPTION, _E.DELIVERY_DELAY),
    "UNDELIVERABLE": (_S.EXCEPTION, _E.LOST), "RETURNING": (_S.EXCEPTION, _E.RETURNED_TO_SENDER),
    "RETURNED": (_S.EXCEPTION, _E.RETURNED_TO_SENDER), "CUSTOMER_ACTION": (_S.EXCEPTION, _E.ADDRESS_PROBLEM),
}
_ORDER_STATUS = {
    "New": OutboundStatus.RECEIVED, "Received": OutboundStatus.RECEIVED, "Planning": OutboundStatus.PICKING,
    "Processing": OutboundStatus.PICKING, "Complete": OutboundStatus.SHIPPED,
    "CompletePartialled": OutboundStatus.SHIPPED, "Cancelled": OutboundStatus.CANCELLED,
    "Unfulfillable": OutboundStatus.EXCEPTION, "Invalid": OutboundStatus.EXCEPTION,
}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC) if value else None


def _unsupported(what: str) -> PermanentError:
    return PermanentError(f"FBA does not support {what} through this connector", code="unsupported", system="fba")


@register
class FbaProvider(BaseProvider):
    name = "fba"
    capabilities = frozenset({Capability.INVENTORY_CURSOR})
    default_endpoint = ""  # per marketplace region, unless an endpoint is given

    def __init__(self, credentials: Mapping[str, str], *, redis, account_key: str, endpoint: str | None = None,
                 session: requests.Session | None = None, on_call=None, on_unknown=None, token_url: str | None = None,
                 max_wait: float = 60.0, sleep=time.sleep) -> None:
        super().__init__(credentials, redis=redis, account_key=account_key, endpoint=endpoint, session=session,
                         on_call=on_call, on_unknown=on_unknown)
        ids = self.credentials.get("marketplace_ids") or self.credentials.get("marketplace_id") or ""
        self.marketplace_ids = [m.strip() for m in ids.split(",") if m.strip()]
        if not self.marketplace_ids or not self.credentials.get("selling_partner_id"):
            raise PermanentError("FBA credentials need selling_partner_id and marketplace_ids",
                                 code="missing_credentials", system=self.name)
        self._lwa = LwaCredentials(self.credentials.get("client_id", ""), self.credentials.get("client_secret", ""),
                                   self.credentials.get("refresh_token"))
        self._redis, self._max_wait, self._sleep = redis, max_wait, sleep
        self._token_url = token_url or self.credentials.get("lwa_token_url")
        self._clients: dict[str, SpApiClient] = {}

    def client(self, marketplace_id: str | None = None) -> SpApiClient:
        marketplace_id = marketplace_id or self.marketplace_ids[0]
        if marketplace_id not in self.marketplace_ids:
            raise PermanentError(f"marketplace {marketplace_id} is not one of this account's", field="warehouse_code",
                                 code="unknown_warehouse", system=self.name)
        if marketplace_id not in self._clients:
            self._clients[marketplace_id] = SpApiClient(
                self._lwa, selling_partner_id=self.credentials["selling_partner_id"], marketplace_id=marketplace_id,
                redis=self._redis, endpoint=self.endpoint or None, token_url=self._token_url,
                max_wait=self._max_wait, on_call=self.on_call, sleep=self._sleep)
        return self._clients[marketplace_id]

    # -- warehouses and SKUs ---------------------------------------------------------------------

    def list_warehouses(self) -> list[WarehouseSite]:
        return [WarehouseSite(code=m, name=f"Amazon FBA {country_of(m)}", country_code=country_of(m),
                              region=marketplace(m).region) for m in self.marketplace_ids]

    def upsert_sku(self, spec: SkuSpec) -> None:
        """Nothing to do: FBA offers are created in Seller Central; MCF orders name the seller SKU."""

    # -- outbound (Multi-Channel Fulfillment) ------------------------------------------------------

    def create_outbound(self, request: OutboundRequest) -> Outbound:
        client = self.client(request.warehouse_code)
        body = self._order_body(request, client.marketplace_id)
        try:
            client.call("fbaOutbound.createFulfillmentOrder", body=body, external_id=request.reference)
        except PermanentError as exc:
            try:  # a retry after a lost answer: the order exists under our reference
                return self.get_outbound(request.reference, warehouse_code=request.warehouse_code)
            except PermanentError:
                raise exc from None
        return self.get_outbound(request.reference, warehouse_code=request.warehouse_code)

    def _order_body(self, request: OutboundRequest, marketplace_id: str) -> dict:
        if not request.reference or len(request.reference) > 40:
            raise PermanentError("sellerFulfillmentOrderId must be 1-40 characters", field="reference",
                                 code="bad_reference", system=self.name)
        ship_to = request.ship_to
        address = {
            "name": ship_to.full_name or ship_to.company, "addressLine1": ship_to.address1,
            "addressLine2": ship_to.address2, "city": ship_to.city,
            "stateOrRegion": ship_to.province_code or ship_to.province, "postalCode": ship_to.zip,
            "countryCode": (ship_to.country_code or "").upper() or None, "phone": ship_to.phone,
        }
        missing = [k for k in ("name", "addressLine1", "postalCode", "countryCode") if not address[k]]
        if missing:
            raise PermanentError(f"destination address lacks {', '.join(missing)}", field=missing,
                                 code="bad_address", system=self.name)
        items, seen = [], set()
        for index, line in enumerate(request.lines, 1):
            item_id = line.sku if line.sku not in seen else f"{line.sku[:44]}#{index}"
            seen.add(line.sku)
            items.append({"sellerSku": line.sku, "sellerFulfillmentOrderItemId": item_id[:50],
                          "quantity": line.quantity})
        display = " ".join((request.order_name or request.reference).replace("#", "").split())[:40]
        body = {
            "marketplaceId": marketplace_id, "sellerFulfillmentOrderId": request.reference,
            "displayableOrderId": display or request.reference, "displayableOrderDate": iso(datetime.now(UTC)),
            "displayableOrderComment": "Thank you for your order.",
            "shippingSpeedCategory": request.shipping_service or "Standard",
            "destinationAddress": {k: v for k, v in address.items() if v},
            "fulfillmentAction": "Ship", "fulfillmentPolicy": "FillOrKill", "items": items,
        }
        if request.email:
            body["notificationEmails"] = [request.email]
        return body

    def cancel_outbound(self, reference: str) -> Outbound:
        current = self.get_outbound(reference)
        if current.status != OutboundStatus.CANCELLED:
            self.client(current.warehouse_code).call(
                "fbaOutbound.cancelFulfillmentOrder", path={"sellerFulfillmentOrderId": reference},
                external_id=reference)
        return self.get_outbound(reference, warehouse_code=current.warehouse_code)

    def _fulfillment_order(self, reference: str, warehouse_code: str | None = None) -> dict:
        """MCF orders belong to the seller account: any marketplace's client can read them."""
        reply = self.client(warehouse_code).call(
            "fbaOutbound.getFulfillmentOrder", path={"sellerFulfillmentOrderId": reference}, external_id=reference)
        return reply.body["payload"]

    def get_outbound(self, reference: str, *, warehouse_code: str | None = None) -> Outbound:
        payload = self._fulfillment_order(reference, warehouse_code)
        order = payload["fulfillmentOrder"]
        shipments = payload.get("fulfillmentShipments") or []
        status = _ORDER_STATUS.get(order["fulfillmentOrderStatus"], OutboundStatus.RECEIVED)
        shipped = [s for s in shipments if s.get("fulfillmentShipmentStatus") == "SHIPPED"]
        if status == OutboundStatus.PICKING and shipped:
            status = OutboundStatus.SHIPPED
        packages = []
        for shipment in shipped:
            for package in shipment.get("fulfillmentShipmentPackage") or []:
                number = package["packageNumber"]
                lines = tuple(Line(i["sellerSku"], int(i["quantity"])) for i in shipment["fulfillmentShipmentItem"]
                              if i.get("packageNumber") in (None, number))
                packages.append(Package(
                    tracking_number=package.get("trackingNumber") or package.get("amazonFulfillmentTrackingNumber")
                    or str(number), carrier=package.get("carrierCode"), lines=lines,
                    shipped_at=_time(shipment.get("shippingDate"))))
        error = order["fulfillmentOrderStatus"] if status == OutboundStatus.EXCEPTION else None
        return Outbound(reference=order["sellerFulfillmentOrderId"], external_id=order["sellerFulfillmentOrderId"],
                        status=status, warehouse_code=order["marketplaceId"], packages=tuple(packages),
                        updated_at=_time(order.get("statusUpdatedDate")), error=error)

    def tracking_events(self, reference: str) -> list[TrackingEvent]:
        payload = self._fulfillment_order(reference)
        client = self.client(payload["fulfillmentOrder"]["marketplaceId"])
        events: list[TrackingEvent] = []
        for shipment in payload.get("fulfillmentShipments") or []:
            for package in shipment.get("fulfillmentShipmentPackage") or []:
                details = client.call("fbaOutbound.getPackageTrackingDetails", external_id=reference,
                                      params={"packageNumber": package["packageNumber"]}).body["payload"]
                events.extend(_tracking(details))
        return sorted(events, key=lambda e: e.occurred_at)

    # -- inventory -----------------------------------------------------------------------------

    def _summaries(self, marketplace_id: str, *, skus: Sequence[str] | None = None,
                   since: datetime | None = None) -> Iterator[dict]:
        client = self.client(marketplace_id)
        base = {"details": True, "granularityType": "Marketplace", "granularityId": marketplace_id,
                "marketplaceIds": [marketplace_id]}
        if since is not None:
            base["startDateTime"] = iso(since)
        elif skus:
            base["sellerSkus"] = list(skus)
        for restart in (False, True):
            token, collected = None, []
            try:
                while True:
                    reply = client.call("fbaInventory.getInventorySummaries", params={**base, "nextToken": token},
                                        max_wait=PAGE_WAIT if token else None)
                    collected.extend((reply.body.get("payload") or {}).get("inventorySummaries") or [])
                    token = (reply.body.get("pagination") or {}).get("nextToken")
                    if not token:
                        yield from collected
                        return
            except PermanentError:
                if token is None or restart:  # not a dead nextToken, or already restarted once
                    raise

    def _records(self, marketplace_id: str, **kwargs) -> list[StockRecord]:
        return [parse_stock(s, marketplace_id) for s in self._summaries(marketplace_id, **kwargs) if s.get("sellerSku")]

    def get_inventory(self, warehouse_code: str | None = None, skus: Sequence[str] | None = None) -> list[StockRecord]:
        records: list[StockRecord] = []
        for marketplace_id in [warehouse_code] if warehouse_code else self.marketplace_ids:
            if skus:
                for i in range(0, len(skus), SKUS_PER_REQUEST):
                    records.extend(self._records(marketplace_id, skus=list(skus)[i:i + SKUS_PER_REQUEST]))
            else:
                records.extend(self._records(marketplace_id))
        return records

    def inventory_changes(self, cursor: str | None) -> StockPage:
        started = datetime.now(UTC)
        since = None
        if cursor:
            if not cursor.startswith(CURSOR_PREFIX):
                raise PermanentError(f"not an FBA inventory cursor: {cursor[:40]!r}", code="bad_cursor",
                                     system=self.name)
            since = _time(cursor[len(CURSOR_PREFIX):])
        records: list[StockRecord] = []
        for marketplace_id in self.marketplace_ids:
            records.extend(self._records(marketplace_id, since=since))
        return StockPage(records=tuple(records), next_cursor=CURSOR_PREFIX + iso(started - CURSOR_OVERLAP),
                         has_more=False)

    # -- not offered by FBA through this connector -------------------------------------------------

    def create_inbound(self, request: InboundRequest) -> InboundShipment:
        raise _unsupported("inbound shipments (use Send to Amazon)")

    def get_inbound(self, reference: str, external_id: str) -> InboundShipment:
        raise _unsupported("inbound shipments (use Send to Amazon)")

    def cancel_inbound(self, reference: str, external_id: str) -> InboundShipment:
        raise _unsupported("inbound shipments (use Send to Amazon)")

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        raise _unsupported("return authorizations")

    def get_return(self, reference: str, external_id: str) -> ReturnStatus:
        raise _unsupported("return authorizations")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WarehouseEvent:
        raise _unsupported("webhooks (SP-API notifications arrive through SQS/EventBridge)")


def parse_stock(summary: dict, marketplace_id: str) -> StockRecord:
    """An FBA Inventory ``InventorySummary`` (fbaInventory model) -> StockRecord: available is
    ``fulfillableQuantity`` ("can be picked, packed, and shipped": reserved, researching and
    unfulfillable units are outside it), inbound the three inbound quantities, on hand the total
    less inbound."""
    details = summary.get("inventoryDetails") or {}
    inbound = sum(int(details.get(k) or 0) for k in
                  ("inboundWorkingQuantity", "inboundShippedQuantity", "inboundReceivingQuantity"))
    available = int(details.get("fulfillableQuantity") or 0)
    reserved = int((details.get("reservedQuantity") or {}).get("totalReservedQuantity") or 0)
    total = summary.get("totalQuantity")
    on_hand = max(0, int(total) - inbound) if total is not None else available + reserved
    return StockRecord(sku=summary["sellerSku"], warehouse_code=marketplace_id, on_hand=on_hand, available=available,
                       reserved=reserved, inbound=inbound, as_of=_time(summary.get("lastUpdatedTime")))


def _tracking(details: dict) -> list[TrackingEvent]:
    number = details.get("trackingNumber") or str(details["packageNumber"])
    carrier = details.get("carrierCode")
    events = []
    for event in details.get("trackingEvents") or []:
        status, reason = EVENTS.get(event.get("eventCode"), (TrackingStatus.IN_TRANSIT, None))
        where = event.get("eventAddress") or {}
        location = ", ".join(p for p in (where.get("city"), where.get("state"), where.get("country")) if p) or None
        events.append(TrackingEvent(tracking_number=number, status=status, occurred_at=_time(event["eventDate"]),
                                    reason=reason, description=event.get("eventDescription") or "",
                                    location=location, carrier=carrier, raw_code=event.get("eventCode")))
    if not events and details.get("currentStatus") in CURRENT:
        status, reason = CURRENT[details["currentStatus"]]
        events.append(TrackingEvent(tracking_number=number, status=status, reason=reason, carrier=carrier,
                                    occurred_at=_time(details.get("shipDate")) or datetime.now(UTC),
                                    description=details.get("currentStatusDescription") or "",
                                    raw_code=details["currentStatus"]))
    return events
