"""Goodcang stock for :class:`connectors.warehouses.goodcang.GoodcangProvider`: the inventory
snapshot (``inventory/get_product_inventory``) and the change cursor over the inventory log
(``inventory/get_inventory_log``). ``sdk:`` is the public SDK ``EalenXie/sdk-all
goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from connectors.errors import PermanentError
from connectors.warehouses import goodcang_mapping as gm
from integration.domain.warehousing import StockPage, StockRecord

CURSOR_VERSION = "gc1"


class GoodcangInventory:
    """Mixed into the provider, whose ``_call`` and ``_unknown`` it uses."""

    inventory_page_size = 200  # no public source: assumed maximum pageSize of inventory and its log
    log_window_days = 30  # no public source: assumed (get_inventory_log spans at most 31 days)

    def get_inventory(self, warehouse_code: str | None = None,
                      skus: Sequence[str] | None = None) -> list[StockRecord]:
        base = {"warehouse_code": warehouse_code} if warehouse_code else {}
        if skus is None:
            return self._inventory(base)
        wanted = list(dict.fromkeys(skus))
        records: list[StockRecord] = []
        for start in range(0, len(wanted), 200):  # at most 200 SKUs per product_sku_arr: no public source, assumed
            records += self._inventory({**base, "product_sku_arr": wanted[start:start + 200]})
        return records

    def _inventory(self, filters: Mapping, operation: str = "get_inventory") -> list[StockRecord]:
        records, page, seen = [], 1, 0
        while True:
            rows, body = self._inventory_page(filters, page, operation)
            records += rows
            answered = len(body.get("data") or ())  # rows on the page, read or not
            seen += answered
            if not gm.more_pages(body, seen, answered):
                return records
            page += 1

    def _inventory_page(self, filters: Mapping, page: int, operation: str) -> tuple[list[StockRecord], dict]:
        """One page of ``get_product_inventory`` (sdk:warehouse/GetProductInventoryPayload.java;
        the page size is sent as ``pageSize``, as AkaneMurakawa/tool GoodCangClientDemo.java does
        for this call). Rows whose counts we cannot read are reported and carry no availability."""
        body = self._call(operation, "inventory/get_product_inventory",
                          {**filters, "page": page, "pageSize": self.inventory_page_size})
        records = []
        for row in body.get("data") or ():
            record, problems = gm.stock(row)
            for field, value in problems:
                self._unknown(field, value, f"{row.get('warehouse_code')}/{row.get('product_sku')}")
            if record is not None:
                records.append(record)
        return records, body

    def inventory_changes(self, cursor: str | None) -> StockPage:
        """A first pass (cursor None) pages through the whole inventory, then follows Goodcang's
        inventory log (``get_inventory_log``, sdk:warehouse/GetInventoryLogPayload.java and
        InventoryLog.java: on-hand moves, Beijing dates; windows of at most 31 days and oldest
        first are assumed, no public source). The cursor is always returned; ``has_more`` says
        whether to ask again now. Reservations do not move on-hand, so they appear with the next move or
        the periodic reconciliation."""
        kind, first, second = self._parse_cursor(cursor)
        if kind == "snap":
            page, start = int(first), second
            records, body = self._inventory_page({}, page, "inventory_changes")
            rows = len(body.get("data") or ())
            if gm.more_pages(body, (page - 1) * self.inventory_page_size + rows, rows):
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
        pairs = list(dict.fromkeys((str(r["warehouse_code"]), str(r["product_sku"])) for r in rows
                                   if r.get("warehouse_code") and r.get("product_sku")))
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
        for s in range(0, len(skus), 200):  # list sizes 200 / 20: no public source, assumed
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
