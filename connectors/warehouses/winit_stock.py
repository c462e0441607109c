"""WINIT queryWarehouseStorage rows -> StockRecord, in the one meaning StockRecord documents.

Source: EalenXie/sdk-all winit-sdk/src/main/java/io/github/ealenxie/winit/oswh/WarehouseStorage.java
(the row of 查询总库存, developer.winit.com.cn/document/detail/id/44). Its live quantity fields:

* ``inStockQty`` 在库总库存 = qtyAvailable + qtyWaitOut + qtyLostConfirming + qtyFrozen +
  qtyDestruction + prohibitFrozenQty + prohibitUsableQty (the SDK states this sum);
* ``qtyAvailable`` 可用库存数量 - sellable and not set aside;
* ``qtyWaitOut`` 待发数量 - set aside for outbound orders, transfers and adjustments;
* ``qtyFrozen`` 冻结, ``qtyLostConfirming`` 丢失确认中, ``qtyDestruction`` 待销毁,
  ``prohibitFrozenQty`` 失效VAT冻结, ``prohibitUsableQty`` 禁止出库 - in the building, not sellable;
* ``pipelineInventory`` 在途待入库 - on its way in;
* ``preSaleWaitOutQty`` 预售待发 - pre-sale orders; not part of inStockQty, so not counted here.

``inventory`` and ``reservedInventory`` are marked 已停用 (deprecated) and are never read.

Our fields: ``on_hand`` = inStockQty (else the sum of its parts); ``available`` = qtyAvailable,
capped at on_hand minus every not-sellable part, and 0 when qtyAvailable is missing or not a
number, when the row is return stock (isReturnInventory Y: returned goods, not our sellable
stock) or when the product is inactive (isActive N); ``reserved`` = qtyWaitOut; ``inbound`` =
pipelineInventory. Rows of one SKU (regular and return stock) are added up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from integration.domain.warehousing import StockRecord

# The parts of inStockQty that are in the building but may not be sold (WarehouseStorage.java).
NOT_SELLABLE = ("qtyWaitOut", "qtyLostConfirming", "qtyFrozen", "qtyDestruction", "prohibitFrozenQty",
                "prohibitUsableQty")


@dataclass(frozen=True)
class StockProblem:
    """A row we read conservatively: which SKU, which field, what it held."""

    sku: str
    field: str
    value: str


def quantity(value) -> int | None:
    """A WINIT quantity (the SDK types some as String, some as Integer); None if not a number."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return int(number) if number.is_finite() and number >= 0 else None


def parse_stock(rows: Iterable[Mapping], warehouse_code: str,
                as_of: datetime) -> tuple[list[StockRecord], list[StockProblem]]:
    """One StockRecord per productCode (first-seen order) and the values read conservatively."""
    totals: dict[str, list[int]] = {}  # sku -> [on_hand, available, reserved, inbound]
    problems: list[StockProblem] = []
    for row in rows:
        sku = str(row.get("productCode") or "")
        if not sku:
            continue
        parts = {name: quantity(row.get(name)) or 0 for name in NOT_SELLABLE}
        available = quantity(row.get("qtyAvailable"))
        if available is None:
            problems.append(StockProblem(sku, "stock.qtyAvailable", str(row.get("qtyAvailable"))))
            available = 0
        on_hand = quantity(row.get("inStockQty"))
        if on_hand is None:  # rebuilt from the parts the SDK says it sums
            on_hand = sum(parts.values()) + available
            problems.append(StockProblem(sku, "stock.inStockQty", str(row.get("inStockQty"))))
        if row.get("isReturnInventory") == "Y" or row.get("isActive") == "N":
            available = 0
        available = max(0, min(available, on_hand - sum(parts.values())))
        total = totals.setdefault(sku, [0, 0, 0, 0])
        for i, value in enumerate((on_hand, available, parts["qtyWaitOut"],
                                   quantity(row.get("pipelineInventory")) or 0)):
            total[i] += value
    records = [StockRecord(sku=sku, warehouse_code=warehouse_code, on_hand=t[0], available=t[1], reserved=t[2],
                           inbound=t[3], as_of=as_of) for sku, t in totals.items()]
    return records, problems
