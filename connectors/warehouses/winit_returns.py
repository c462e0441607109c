"""WINIT returns (RMA, 退货单): create one, find it by our reference, read where it stands.

``rma.returnGoodsOrder.createReturnGoodsOrder`` (oswh/ReturnGoodsOrderCreateData.java) announces
the return of units of one WINIT outbound order; ``rma.returnGoodsOrder.queryReturnOderList``
(oswh/ReturnOderListQueryData.java) lists returns as oswh/ReturnOrder.java rows: ``status`` (no
published code list: :data:`winit_codes.RETURN_STATUS`), ``sellerOrderNo`` (our reference) and
``orderGoodsList`` (oswh/ReturnOrderGood.java: ``merchandiseCode``, ``confirmQty`` - units
received - and ``merchandiseGrade``, GOOD / DEFECTIVE as oswh/OutboundOrderProduct.java lists).
WINIT gives no return label: the customer sends the parcel to the warehouse, whose address
``queryWarehouse`` publishes as one line (oswh/WarehousePayload.java warehouseAddress).
Paths are relative to EalenXie/sdk-all ``winit-sdk/src/main/java/io/github/ealenxie/winit/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import winit_codes as codes
from connectors.warehouses import winit_mapping as wm
from integration.domain.warehousing import (
    Line,
    Outbound,
    ReturnAddress,
    ReturnAuthorization,
    ReturnedLine,
    ReturnRequest,
    ReturnState,
    ReturnStatus,
)

# winit_codes.RETURN_STATUS words -> where the return stands
RETURN_STATES = {
    "draft": ReturnState.AUTHORIZED, "ordered": ReturnState.AUTHORIZED, "received": ReturnState.RECEIVED,
    "pending": ReturnState.RECEIVED, "completed": ReturnState.INSPECTED, "destroyed": ReturnState.INSPECTED,
    "cancelled": ReturnState.CANCELLED,
}
SELLABLE_GRADES = {"GOOD"}  # merchandiseGrade back on sale (oswh/OutboundOrderProduct.java: GOOD 良品)
KNOWN_GRADES = {"GOOD", "DEFECTIVE"}  # oswh/OutboundOrderProduct.java (DEFECTIVE 不良品)


class WinitReturns:
    """The return half of :class:`connectors.warehouses.winit.WinitProvider`."""

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        part = part_holding(self._outbound_parts(request.outbound_reference), request.lines)
        address = self._return_address(str(part.warehouse_code))
        known = self._remembered("return", request.reference)
        if known:
            return ReturnAuthorization(reference=request.reference, external_id=known[0], status="ordered",
                                       address=address)
        if self._attempted("return", request.reference):
            found = self._find_return(request.reference, part.external_id, address)
            if found is not None:
                return found
        data = wm.return_payload(request, outbound_no=part.external_id, warehouse_code=str(part.warehouse_code),
                                 product_code=self.credentials.get("return_product_code"))
        try:
            result = self._call("create_return", "rma.returnGoodsOrder.createReturnGoodsOrder", data) or {}
        except AuthError:
            raise
        except PermanentError:
            found = self._find_return(request.reference, part.external_id, address)
            if found is None:
                raise
            return found
        # OswhClient.createReturnGoodsOrder types this answer Object: returnGoodsOrderNo is assumed.
        number = str(result.get("returnGoodsOrderNo") or "") if isinstance(result, Mapping) else ""
        if not number:
            found = self._find_return(request.reference, part.external_id, address)
            if found is None:
                raise RetryableError(f"WINIT created return {request.reference!r} without naming it",
                                     system=self.name, operation="create_return")
            return found
        self._remember("return", request.reference, [number])
        return ReturnAuthorization(reference=request.reference, external_id=number, status="ordered",
                                   address=address)

    def get_return(self, reference: str, external_id: str) -> ReturnStatus:
        """The row of ``external_id``, which must be our ``reference``'s (another return, or one of
        another account, is not found)."""
        result = self._call("get_return", "rma.returnGoodsOrder.queryReturnOderList", {
            "returnGoodsOrderNo": external_id, "pageParams": {"pageNo": 1, "pageSize": 1}}) or {}
        rows = [row for row in result.get("list") or () if isinstance(row, Mapping)
                and str(row.get("returnGoodsOrderNo")) == external_id and row.get("sellerOrderNo") == reference]
        if not rows:
            raise codes.WinitNotFoundError(f"WINIT has no return {external_id} for {reference!r}", field="reference",
                                           code="not_found", system=self.name, operation="get_return")
        return self._return_status(reference, external_id, rows[0])

    def _return_status(self, reference: str, external_id: str, row: Mapping) -> ReturnStatus:
        word = self._status_of(codes.RETURN_STATUS, "return.status", row.get("status"), reference)
        state = RETURN_STATES.get(word, ReturnState.AUTHORIZED)  # unknown: nothing counted as received
        lines = []
        for good in row.get("orderGoodsList") or ():
            units = wm.to_int(good.get("confirmQty")) if isinstance(good, Mapping) else 0
            if units <= 0 or not good.get("merchandiseCode") or state in (ReturnState.AUTHORIZED,
                                                                           ReturnState.CANCELLED):
                continue
            grade = str(good.get("merchandiseGrade") or "") or None
            if state is ReturnState.INSPECTED and grade not in KNOWN_GRADES:
                self._unknown("return.merchandiseGrade", grade, reference)
            sellable = grade in SELLABLE_GRADES if state is ReturnState.INSPECTED else None
            lines.append(ReturnedLine(sku=str(good["merchandiseCode"]), quantity=units,
                                      grade=grade if state is ReturnState.INSPECTED else None, sellable=sellable))
        return ReturnStatus(reference=reference, external_id=external_id, state=state, lines=tuple(lines),
                            updated_at=self.clock())

    def _return_address(self, warehouse_code: str) -> ReturnAddress | None:
        row = self._warehouse(warehouse_code)
        address = parse_address(str(row.get("warehouseName") or warehouse_code), row.get("warehouseAddress"))
        if address is None:  # the line itself stays out of logs: it reads like a person's address
            self._unknown("warehouse.warehouseAddress", "unrecognised layout", warehouse_code)
        return address

    def _find_return(self, reference: str, outbound_no: str,
                     address: ReturnAddress | None) -> ReturnAuthorization | None:
        """Every return of that WINIT order, page by page; ours is the row whose sellerOrderNo is
        our reference - rows carry no customerOrderNo."""
        size = self.lookup_page_size
        for page in range(1, self.lookup_pages + 1):
            result = self._call("find_return", "rma.returnGoodsOrder.queryReturnOderList", {
                "outboundOrderNo": outbound_no, "pageParams": {"pageNo": page, "pageSize": size}}) or {}
            rows = result.get("list") or []
            for row in rows:
                if row.get("sellerOrderNo") == reference and row.get("returnGoodsOrderNo"):
                    self._remember("return", reference, [str(row["returnGoodsOrderNo"])])
                    return ReturnAuthorization(
                        reference=reference, external_id=str(row["returnGoodsOrderNo"]),
                        status=self._status_of(codes.RETURN_STATUS, "return.status", row.get("status"), reference),
                        address=address)
            total = wm.to_int((result.get("pageParams") or {}).get("totalCount"), default=-1)
            if len(rows) < size or 0 <= total <= page * size:
                break
        return None


def parse_address(name: str, line) -> ReturnAddress | None:
    """warehouseAddress "street[, street 2], city, postcode, CC" (layout: no public source,
    assumed) -> ReturnAddress; None when the line does not have that layout."""
    parts = [part.strip() for part in str(line or "").split(",") if part.strip()]
    if len(parts) < 4 or len(parts) > 5 or not (len(parts[-1]) == 2 and parts[-1].isalpha()):
        return None
    street = parts[:-3]
    return ReturnAddress(name=name, address1=street[0], address2=street[1] if len(street) > 1 else None,
                         city=parts[-3], zip=parts[-2], country_code=parts[-1].upper())


def part_holding(parts: list[Outbound], lines: Sequence[Line]) -> Outbound:
    """The WINIT order of a (possibly split) outbound that shipped every returned SKU: a WINIT
    return belongs to one outbound order number (oswh/ReturnGoodsOrderCreateData.java)."""
    if len(parts) == 1:
        return parts[0]
    wanted = {line.sku for line in lines}
    for part in parts:
        if wanted <= {line.sku for pkg in part.packages for line in pkg.lines}:
            return part
    raise PermanentError("the returned lines were shipped in different parts of a split WINIT order: "
                         "create one return per part", field="lines", code="split_return", system="winit")
