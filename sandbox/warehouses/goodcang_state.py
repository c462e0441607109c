"""One emulated Goodcang customer account: the records Goodcang keeps over the physical
:class:`~sandbox.warehouses.sim.WarehouseSim` (its order, GRN and return numbers, products, the
inventory log). The action modules (``goodcang_orders``, ``goodcang_stock``, ``goodcang_inbound``)
read and write it; :class:`sandbox.warehouses.goodcang.GoodcangEmulator` adds HTTP on top.
``sdk:`` is ``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/goodcang/``.
"""

from __future__ import annotations

import time

from .goodcang_protocol import BEIJING
from .sim import SimOrder, WarehouseSim

# sdk:base/Warehouse.java warehouse_name (the names themselves: Goodcang's own, not sourced)
WAREHOUSE_NAMES = {"USEA": "美东仓库", "USWE": "美西仓库", "USSO": "美南仓库", "DE": "德国仓库", "UK": "英国仓库",
                   "FRVI": "法国仓库", "CZ": "捷克仓库", "ES": "西班牙仓库", "AU": "澳洲仓库", "JP": "日本仓库"}
# sdk:base/ShippingMethod.java code (these codes: examples, no public source)
SHIPPING_METHODS = {"US": ("FEDEX-SMALLPARCEL", "USPS-PRIORITY"), "DE": ("DHL-PAKET", "DPD-PARCEL"),
                    "GB": ("ROYALMAIL-TRACKED48",), "FR": ("COLISSIMO-EXPERT",)}
# sdk:warehouse/InventoryLog.java application_code (the codes: no public source, assumed)
LOG_APPLICATIONS = {"order": "OrderCheckout", "putaway": "Putaway", "adjust": "Adjustment"}
# sdk:warehouse/InventoryLog.java inventory_change_type (1 in / 2 out: no public source, assumed)
CHANGE_IN, CHANGE_OUT = "1", "2"


class GoodcangAccount:
    """Goodcang-side records of one account; every field is read under ``sim.lock``."""

    customer_code = "G1149"  # prefix of Goodcang's numbers (format: no public source, assumed)

    def __init__(self, warehouses: dict[str, str], *, seed: int | None = None, start: float | None = None,
                 **sim_options) -> None:
        self.sim = WarehouseSim(dict(warehouses), seed=seed, start=start, **sim_options)
        self.products: dict[str, dict] = {}
        self.orders: dict[str, dict] = {}  # reference -> order meta
        self.order_codes: dict[str, str] = {}  # order_code -> reference
        self.inbounds: dict[str, dict] = {}  # reference (or receiving_code) -> GRN meta, in creation order
        self.returns: dict[str, dict] = {}  # ref_no (or asro_code) -> return meta
        self.inventory_log: list[dict] = []
        self.forced_status: dict[str, str] = {}  # reference -> order_status to answer instead (tests)
        self.return_status_override: dict[str, object] = {}  # return key -> asro_status to answer instead
        self._on_hand: dict[tuple[str, str], int] = {}
        self._sequences: dict[str, int] = {}
        self.sim.listeners.append(self._on_sim_event)

    def warehouse_name(self, code: str) -> str:
        return WAREHOUSE_NAMES.get(code, f"{code}仓库")

    def shipping_methods(self, warehouse: str) -> tuple[str, ...]:
        return SHIPPING_METHODS.get(self.sim.warehouses.get(warehouse, ""), ("EXPRESS-STANDARD",))

    def next_code(self, prefix: str) -> str:
        """Goodcang numbers look like ``G1149-240311-0001`` / ``RVG1149-…`` (Beijing date)."""
        day = time.strftime("%y%m%d", time.gmtime(self.sim.now + BEIJING.utcoffset(None).total_seconds()))
        key = f"{prefix}{day}"
        self._sequences[key] = self._sequences.get(key, 0) + 1
        return f"{prefix}{self.customer_code}-{day}-{self._sequences[key]:04d}"

    def order_code(self, reference: str) -> str:
        return self.orders[reference]["order_code"]

    def sim_order(self, reference: str) -> SimOrder:
        return self.sim.orders[reference]

    def force_order_status(self, reference: str, status: str) -> None:
        """Answer ``status`` as the order's ``order_status`` from now on (e.g. a code Goodcang may
        add later, for testing how a client reads what it does not know)."""
        with self.sim.lock:
            self.forced_status[reference] = status

    def record_grn(self, reference: str, warehouse: str, lines: list[tuple[str, int]], eta: float, *,
                   verify: int, tracking_number: str = "", request: dict | None = None) -> str:
        """Keep a new GRN (and its stock on the way in); returns its receiving_code."""
        with self.sim.lock:
            code = self.next_code("RV")
            key = reference or code
            self.sim.create_inbound(key, warehouse, lines, eta)
            self.inbounds[key] = {"receiving_code": code, "reference_no": reference, "warehouse_code": warehouse,
                                  "verify": verify, "created": self.sim.now, "tracking_number": tracking_number,
                                  "lines": list(lines), "request": request or {}}
            return code

    # -- the inventory log (get_inventory_log lists on-hand moves) ----------------------------

    def _on_sim_event(self, kind: str, payload) -> None:
        if kind != "stock":
            return
        pair = (payload["warehouse"], payload["sku"])
        delta = self.sim.stock[pair].on_hand - self._on_hand.get(pair, 0)
        self._on_hand[pair] = self.sim.stock[pair].on_hand
        if delta:
            self.inventory_log.append(self._log_entry(pair, delta))

    def _log_entry(self, pair: tuple[str, str], delta: int) -> dict:
        """An sdk:warehouse/InventoryLog.java row for an on-hand move the sim just made."""
        warehouse, sku = pair
        application, reference = "adjust", ""
        if delta < 0:
            for ref, order in self.sim.orders.items():
                if (order.warehouse == warehouse and order.shipped_at == self.sim.now and ref in self.orders
                        and any(s == sku for s, _ in order.lines)):
                    application, reference = "order", self.orders[ref]["order_code"]
                    break
        else:
            for ref, inbound in self.sim.inbounds.items():
                if (inbound.warehouse == warehouse and inbound.status == "created" and ref in self.inbounds
                        and any(s == sku for s, _ in inbound.lines)):
                    application, reference = "putaway", self.inbounds[ref]["receiving_code"]
                    break
        return {"at": self.sim.now, "reference_no": reference, "ref_no": reference,
                "application_code": LOG_APPLICATIONS[application], "product_sku": sku,
                "warehouse_code": warehouse, "warehouse_name": self.warehouse_name(warehouse),
                "inventory_change_type": CHANGE_IN if delta > 0 else CHANGE_OUT,
                "ibl_change_quantity": str(abs(delta)), "remark": ""}
