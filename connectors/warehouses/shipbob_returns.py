"""ShipBob returns (https://developer.shipbob.com/api/returns, /guides/returns).

``POST /return`` creates a return order for a shipped order (``reference_id`` unique per
channel); ``GET /return/{id}`` and ``GET /return?ReferenceIds=`` read it. Its ``status`` is one of
the ReturnStatus enum - AwaitingArrival, Arrived, Processing, Completed, Cancelled - and each
``inventory`` item lists ``action_taken`` entries (``action``, ``action_reason``, ``image_url``,
``quantity_processed``): Restock puts units back on sale, Dispose (or any other action) does not.
ShipBob's API buys no label for a return created this way: the customer ships to the fulfillment
center, whose address ``GET /fulfillment-center`` publishes. ``return.created``, ``return.updated``
and ``return.completed`` webhooks carry the same return resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connectors.errors import PermanentError
from connectors.warehouses.countries import normalise_country
from integration.domain.warehousing import (
    ReturnAddress,
    ReturnAuthorization,
    ReturnedLine,
    ReturnRequest,
    ReturnState,
    ReturnStatus,
)

from .shipbob_mapping import parse_time, shipment_inventory_ids

RETURN_STATES = {"AwaitingArrival": ReturnState.AUTHORIZED, "Arrived": ReturnState.RECEIVED,
                 "Processing": ReturnState.RECEIVED, "Completed": ReturnState.INSPECTED,
                 "Cancelled": ReturnState.CANCELLED}
KNOWN_ACTIONS = {"Restock", "Dispose", "Quarantine", "Default"}
SELLABLE_ACTIONS = {"Restock"}  # every other action leaves the units off sale


def return_status(view: Mapping, reference: str, unknown: Callable[[str, object], None],
                  skus: Mapping[int, str] | None) -> ReturnStatus:
    """A return resource -> ReturnStatus; an unknown status reads AUTHORIZED (nothing received
    early), an unknown action reads not sellable. ``unknown(field, value)`` hears both. Items name
    inventory ids, not SKUs: ``skus`` maps them (None: no lines, as in a webhook, which only
    triggers a ``get_return``)."""
    status = view.get("status")
    state = RETURN_STATES.get(status)
    if state is None:
        unknown("return.status", status)
        state = ReturnState.AUTHORIZED
    lines = []
    if skus is not None and state in (ReturnState.RECEIVED, ReturnState.INSPECTED):
        for item in view.get("inventory") or ():
            sku = skus.get(item.get("id")) if isinstance(item, Mapping) else None
            for taken in item.get("action_taken") or ():
                units = taken.get("quantity_processed")
                if not sku or not isinstance(units, int) or isinstance(units, bool) or units <= 0:
                    continue
                action = str(taken.get("action") or "")
                if action not in KNOWN_ACTIONS:
                    unknown("return.action_taken.action", action)
                finished = state is ReturnState.INSPECTED
                lines.append(ReturnedLine(sku=sku, quantity=units, grade=action or None,
                                          sellable=(action in SELLABLE_ACTIONS) if finished else None))
    return ReturnStatus(reference=reference, external_id=str(view.get("id") or ""), state=state,
                        lines=tuple(lines), updated_at=parse_time(view.get("completed_date"))
                        or parse_time(view.get("insert_date")))


class ShipBobReturns:
    """The return half of :class:`connectors.warehouses.shipbob.ShipBobProvider`."""

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        existing = self._find_return(request.reference)
        if existing:
            return existing
        order = self._order(request.outbound_reference, "create_return")
        shipments = order.get("shipments") or []
        shipment = next((s for s in shipments if s.get("status") == "Completed"), shipments[0] if shipments else None)
        if shipment is None:
            raise PermanentError(f"order {request.outbound_reference} has no shipment to return",
                                 code="not_shipped", system=self.name, operation="create_return")
        by_sku = shipment_inventory_ids(shipment)
        inventory = []
        for index, line in enumerate(request.lines):
            inventory_id = by_sku.get(line.sku) or self._inventory_id(line.sku, "create_return")
            if inventory_id is None:
                raise PermanentError(f"SKU {line.sku!r} is not a ShipBob product", field=f"lines[{index}].sku",
                                     code="unknown_sku", system=self.name, operation="create_return")
            inventory.append({"id": int(inventory_id), "quantity": line.quantity, "requested_action": "Default"})
        body = {"reference_id": request.reference, "original_shipment_id": shipment["id"],
                "fulfillment_center": {"id": (shipment.get("location") or {}).get("id")}, "inventory": inventory}
        response, data = self._call("create_return", "POST", "/return", body=body, channel=True, allow=(422,),
                                    external_id=request.reference)
        if response.status_code == 422:
            existing = self._find_return(request.reference)
            if existing is None:
                raise self._error("create_return", response, data)
            return existing
        return ReturnAuthorization(request.reference, str(data["id"]), data.get("status") or "",
                                   address=self._return_address(data))

    def get_return(self, reference: str, external_id: str) -> ReturnStatus:
        """``GET /return/{id}``; a return of another reference or channel is not found."""
        if not external_id.isdigit():
            raise PermanentError(f"not a ShipBob return id: {external_id!r}", field="external_id", code="not_found",
                                 system=self.name, operation="get_return")
        response, data = self._call("get_return", "GET", f"/return/{external_id}", allow=(404,),
                                    external_id=reference)
        channel = str(((data or {}).get("channel") or {}).get("id")) if isinstance(data, Mapping) else None
        if (response.status_code == 404 or not isinstance(data, Mapping) or data.get("reference_id") != reference
                or channel != str(self.credentials["channel_id"]).strip()):
            raise PermanentError(f"ShipBob has no return {external_id} for {reference!r}", field="reference",
                                 code="not_found", system=self.name, operation="get_return")
        ids = {item["id"] for item in data.get("inventory") or () if isinstance(item, Mapping)
               and isinstance(item.get("id"), int)}
        return return_status(data, reference, lambda field, value: self._unknown(field, value, reference),
                             self._skus_of(ids))

    def _skus_of(self, inventory_ids: set[int]) -> dict[int, str]:
        """Inventory id -> SKU (``GET /inventory?InventoryIds=``), from what we know first."""
        known = {number: sku for sku, number in self._inventory_ids.items() if number in inventory_ids}
        missing = sorted(inventory_ids - set(known))
        if missing:
            for items in self._pages("get_return", "/inventory", {"InventoryIds": ",".join(map(str, missing))}):
                for item in items:
                    if item.get("inventory_id") in inventory_ids and item.get("sku"):
                        known[int(item["inventory_id"])] = str(item["sku"])
                        self._inventory_ids[str(item["sku"])] = int(item["inventory_id"])
        return known

    def _find_return(self, reference: str) -> ReturnAuthorization | None:
        _, data = self._call("create_return", "GET", "/return", params={"ReferenceIds": reference}, channel=True,
                             external_id=reference)
        items = data.get("items") if isinstance(data, dict) else data
        for item in items or []:
            if item.get("reference_id") == reference:
                return ReturnAuthorization(reference, str(item["id"]), item.get("status") or "",
                                           address=self._return_address(item))
        return None

    def _return_address(self, view: Mapping) -> ReturnAddress | None:
        """The return's fulfillment center as ``GET /fulfillment-center`` publishes it."""
        center = str((view.get("fulfillment_center") or {}).get("id"))
        _, data = self._call("return_address", "GET", "/fulfillment-center")
        fc = next((fc for fc in data or () if str(fc.get("id")) == center), None)
        country = normalise_country((fc or {}).get("country"))
        if not fc or not (fc.get("address1") and fc.get("city") and fc.get("zip_code") and country):
            self._unknown("return.fulfillment_center", "no address", center)
            return None
        return ReturnAddress(name=str(fc.get("name") or center), address1=str(fc["address1"]),
                             address2=fc.get("address2") or None, city=str(fc["city"]), zip=str(fc["zip_code"]),
                             country_code=country, province=fc.get("state") or None,
                             phone=fc.get("phone_number") or None)
