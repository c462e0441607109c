"""Goodcang returns (退件单): create one, read where it stands, and where the customer sends it.

``return_order/create`` (sdk:warehouse/ReturnOrderCreatePayload.java) answers ``asro_code``;
``return_order/search`` (reference_no and/or asroCodes; one unpaged list of
sdk:warehouse/ReturnOrder.java) gives ``asro_status`` - 0 草稿, 1 已提交, 4 收货完成, 5 处理完成,
6 废弃, 7 处理中 (Goodcang open-platform doc "RESTFUL V1退货单查询") - and per product
(sdk:warehouse/ReturnProductDetail.java) ``sellable_qty`` (良品), ``unsellable_qty`` (不良品) and
``destruction_qty`` (销毁). Goodcang issues return labels as files (``return_order/label``), so
``label_url`` stays None; the address is the warehouse's physical site as ``base_data/get_warehouse``
publishes it (sdk:base/Wp.java ``address``, sdk:base/WpAddress.java).
``sdk:`` = ``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.errors import AuthError, PermanentError
from connectors.warehouses import goodcang_codes as codes
from connectors.warehouses import goodcang_errors as ge
from connectors.warehouses import goodcang_mapping as gm
from integration.domain.warehousing import (
    ReturnAddress,
    ReturnAuthorization,
    ReturnedLine,
    ReturnRequest,
    ReturnState,
    ReturnStatus,
)

# goodcang_codes.RETURN_STATUS words -> where the return stands
RETURN_STATES = {
    "draft": ReturnState.AUTHORIZED, "submitted": ReturnState.AUTHORIZED, "received": ReturnState.RECEIVED,
    "processing": ReturnState.RECEIVED, "processed": ReturnState.INSPECTED, "discarded": ReturnState.CANCELLED,
}
# product_detail quantity field -> (grade word kept for the merchant, back on sale?)
GRADED = (("sellable_qty", "sellable", True), ("unsellable_qty", "unsellable", False),
          ("destruction_qty", "destruction", False))


class GoodcangReturns:
    """The return half of :class:`connectors.warehouses.goodcang.GoodcangProvider`."""

    def create_return(self, request: ReturnRequest) -> ReturnAuthorization:
        """A retry finds the return by ``return_order/search`` reference_no."""
        order = self._order(request.outbound_reference, "create_return")
        address = self._return_address(str(order["warehouse_code"]))
        payload = gm.return_payload(request, str(order["order_code"]), str(order["warehouse_code"]))
        try:
            body = self._call("create_return", "return_order/create", payload)
            return ReturnAuthorization(request.reference, str((body.get("data") or {}).get("asro_code") or ""),
                                       "submitted", address=address)
        except PermanentError as exc:
            if isinstance(exc, AuthError) or not ge.is_duplicate(exc):
                raise
            row = self._existing(request.reference, exc, lambda: self._return(request.reference))
        status = gm.status_of(codes.RETURN_STATUS, row.get("asro_status"))
        if status is None:
            self._unknown("return.asro_status", row.get("asro_status"), request.reference)
        return ReturnAuthorization(request.reference, str(row["asro_code"]), status or "unknown", address=address)

    def get_return(self, reference: str, external_id: str) -> ReturnStatus:
        """The return ``external_id``, which must carry our ``reference`` (another return, or one of
        another account, is not found)."""
        found = self._call("get_return", "return_order/search", {"reference_no": reference, "asroCodes": external_id})
        rows = [row for row in found.get("data") or () if isinstance(row, Mapping)
                and row.get("reference_no") == reference and str(row.get("asro_code")) == external_id]
        if not rows:
            raise PermanentError(f"Goodcang has no return {external_id} for {reference!r}", field="reference",
                                 code="not_found", system=self.name, operation="get_return")
        row = rows[0]
        word = gm.status_of(codes.RETURN_STATUS, row.get("asro_status"))
        if word is None:
            self._unknown("return.asro_status", row.get("asro_status"), reference)
        state = RETURN_STATES.get(word, ReturnState.AUTHORIZED)  # unknown: nothing counted as received early
        # The latest time the row carries (put away, else audited, else created): it has no update time.
        updated = next(filter(None, (gm.from_beijing(row.get(k)) for k in ("asro_putaway_time", "asro_audit_time",
                                                                           "asro_add_time"))), None)
        return ReturnStatus(reference=reference, external_id=external_id, state=state,
                            lines=returned_lines(row, state), updated_at=updated)

    def _return(self, reference: str) -> dict | None:
        found = self._call("create_return", "return_order/search", {"reference_no": reference})
        rows = [r for r in found.get("data") or () if r.get("reference_no") == reference and r.get("asro_code")]
        return rows[0] if rows else None

    def _return_address(self, warehouse_code: str) -> ReturnAddress | None:
        body = self._call("return_address", "base_data/get_warehouse", {})
        row = next((r for r in body.get("data") or () if isinstance(r, Mapping)
                    and r.get("warehouse_code") == warehouse_code), None)
        address = site_address(row) if row else None
        if address is None:
            self._unknown("warehouse.wp_list.address", "missing", warehouse_code)
        return address


def returned_lines(row: Mapping, state: ReturnState) -> tuple[ReturnedLine, ...]:
    """Units per product: once processed, one line per grade; while received, the units counted so
    far (ungraded); none before the parcel is in."""
    lines = []
    if state not in (ReturnState.RECEIVED, ReturnState.INSPECTED):
        return ()
    for product in row.get("product_detail") or ():
        if not isinstance(product, Mapping) or not product.get("product_sku"):
            continue
        sku = str(product["product_sku"])
        counts = [(gm.integer(product.get(field)), grade, sellable) for field, grade, sellable in GRADED]
        if state is ReturnState.RECEIVED:
            units = sum(count for count, _, _ in counts)
            lines += [ReturnedLine(sku=sku, quantity=units)] if units else []
            continue
        lines += [ReturnedLine(sku=sku, quantity=count, grade=grade, sellable=sellable)
                  for count, grade, sellable in counts if count]
    return tuple(lines)


def site_address(row: Mapping) -> ReturnAddress | None:
    """The first physical site's address of a sdk:base/Warehouse.java row; None when incomplete."""
    sites = [wp for wp in row.get("wp_list") or () if isinstance(wp, Mapping) and isinstance(wp.get("address"),
                                                                                              Mapping)]
    if not sites:
        return None
    address = sites[0]["address"]
    street = " ".join(str(address.get(k) or "").strip() for k in ("street_address1", "street_number")).strip()
    city, postcode, country = (str(address.get("city") or "").strip(), str(address.get("postcode") or "").strip(),
                               str(row.get("country_code") or "").strip().upper())
    if not (street and city and postcode and len(country) == 2):
        return None
    return ReturnAddress(name=str(address.get("contacter") or row.get("warehouse_name") or row["warehouse_code"]),
                         address1=street, address2=str(address.get("street_address2") or "").strip() or None,
                         city=city, zip=postcode, country_code=country,
                         province=str(address.get("state") or "").strip() or None,
                         phone=str(address.get("phone") or "").strip() or None)
