"""The returns desk of the simulated warehouse: an RMA moves authorized -> received -> inspected.

Mixed into :class:`~sandbox.warehouses.sim.WarehouseSim` (it uses the sim's lock, clock, stock and
change log). On the clock, an announced return arrives ``return_transit`` seconds after it was
created and is inspected ``inspect_after`` seconds after it arrived; ``receive_return`` and
``inspect_return`` do either step at once (tests, the control page). Inspection grades every unit:
``"sellable"`` units go back on the shelf (on hand grows, recorded with ``_changed`` so every
vendor's inventory-change feed reports it), ``"unsellable"`` units are written off (no stock).

The grades come from, in this order: the ``grades`` given to ``inspect_return``, a plan set with
``plan_return`` (before or after the RMA exists), else every unit is sellable. A grade is one word
for every unit, a SKU -> word mapping, or a SKU -> list of one word per unit.

Each warehouse has a return address (``return_addresses``; a plausible default per country), which
each vendor emulator publishes in its own shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

GRADES = ("sellable", "unsellable")
RETURN_TRANSIT = 3 * 86400.0  # seconds from RMA to the parcel reaching the warehouse
INSPECT_AFTER = 86400.0  # seconds from arrival to the inspection

# country -> (address1, zip, city, province): where the default returns desk of a warehouse is.
DEFAULT_DESKS = {
    "DE": ("Retourenweg 12", "21079", "Hamburg", None),
    "US": ("1200 Returns Way", "91761", "Ontario", "CA"),
    "GB": ("Unit 4, Returns Park", "NN4 7PA", "Northampton", None),
    "FR": ("8 Rue des Retours", "77700", "Serris", None),
    "NL": ("Retourstraat 3", "5928 PB", "Venlo", None),
    "AU": ("22 Returns Drive", "2170", "Liverpool", "NSW"),
    "JP": ("1-2-3 Henpin", "272-0001", "Ichikawa", "Chiba"),
}


@dataclass
class SimReturn:
    reference: str
    external_id: str
    order_reference: str
    lines: list[tuple[str, int]]
    status: str = "created"  # created, received, inspected, cancelled
    warehouse: str = ""
    merchant_reference: str = ""  # the reference the vendor recorded for the merchant, if other than ours
    created_at: float = 0.0
    received_at: float | None = None
    inspected_at: float | None = None
    updated_at: float = 0.0
    next_at: float = 0.0  # when the clock moves it on; 0: never by itself
    graded: list[tuple[str, int, str]] = field(default_factory=list)  # (sku, units, grade) once inspected


def default_return_address(code: str, country: str) -> dict:
    address1, zip_code, city, province = DEFAULT_DESKS.get(country, (f"{code} Returns Dock 1", "10000",
                                                                     f"{code} City", None))
    return {"name": f"Returns {code}", "address1": address1, "address2": None, "city": city, "zip": zip_code,
            "province": province, "country_code": country, "phone": None}


def unit_grades(sku: str, quantity: int, grade) -> list[str]:
    """One grade word per unit of ``sku`` from a plan entry (word, mapping or per-unit list)."""
    if isinstance(grade, Mapping):
        grade = grade.get(sku, "sellable")
    words = [grade] * quantity if isinstance(grade, str) else list(grade)
    if len(words) != quantity or any(word not in GRADES for word in words):
        raise ValueError(f"grades for {sku} must be {quantity} of {GRADES}: {grade!r}")
    return words


class ReturnDesk:
    """The return half of WarehouseSim (see the module docstring)."""

    def _init_returns(self, *, return_transit: float, inspect_after: float) -> None:
        self.returns: dict[str, SimReturn] = {}
        self.return_transit, self.inspect_after = return_transit, inspect_after
        self.return_addresses = {code: default_return_address(code, country)
                                 for code, country in self.warehouses.items()}
        self.written_off: dict[tuple[str, str], int] = {}  # (warehouse, sku) -> units graded unsellable
        self._return_plans: dict[str, object] = {}

    def create_return(self, reference: str, order_reference: str, lines, *, merchant_reference: str = "",
                      warehouse: str = "") -> SimReturn:
        """An RMA for units of the outbound ``order_reference`` (or, without one, for ``warehouse``:
        a return no order of ours shipped)."""
        with self.lock:
            if reference in self.returns:
                self._refuse("duplicate_reference", f"return {reference} already exists")
            if order_reference:
                warehouse = self.get_order(order_reference).warehouse
            self._check_warehouse(warehouse)
            rma = SimReturn(reference, self.new_id("RMA"), order_reference, list(lines), warehouse=warehouse,
                            merchant_reference=merchant_reference or reference, created_at=self.now,
                            updated_at=self.now, next_at=self.now + self.return_transit)
            self.returns[reference] = rma
            return rma

    def plan_return(self, reference: str, grades) -> None:
        """How the RMA ``reference`` (ours or the merchant's) will be graded when inspected."""
        if not isinstance(grades, str | Mapping):
            raise ValueError(grades)
        with self.lock:
            self._return_plans[reference] = grades

    def find_return(self, reference: str) -> SimReturn:
        """The RMA by the sim's reference or, failing that, by the merchant's reference."""
        with self.lock:
            if reference in self.returns:
                return self.returns[reference]
            found = [rma for rma in self.returns.values() if rma.merchant_reference == reference]
            if len(found) != 1:
                self._refuse("unknown_return", f"no return {reference}")
            return found[0]

    def receive_return(self, reference: str) -> SimReturn:
        """The parcel reaches the warehouse now: every announced unit is in, not yet graded."""
        with self.lock:
            rma = self.find_return(reference)
            if rma.status != "created":
                self._refuse("not_receivable", f"return {reference} is {rma.status}")
            rma.status, rma.received_at, rma.updated_at = "received", self.now, self.now
            rma.next_at = self.now + self.inspect_after
            self._emit("return", rma)
            return rma

    def inspect_return(self, reference: str, grades=None) -> SimReturn:
        """Grade every unit now (receiving the parcel first if it is still on its way)."""
        with self.lock:
            rma = self.find_return(reference)
            if rma.status == "created":
                self.receive_return(reference)
            if rma.status != "received":
                self._refuse("not_inspectable", f"return {reference} is {rma.status}")
            if grades is None:
                grades = self._return_plans.get(rma.reference, self._return_plans.get(rma.merchant_reference,
                                                                                       "sellable"))
            per_sku = [(sku, unit_grades(sku, qty, grades)) for sku, qty in rma.lines]  # all checked first
            for sku, words in per_sku:
                for grade in GRADES:
                    units = words.count(grade)
                    if not units:
                        continue
                    rma.graded.append((sku, units, grade))
                    if grade == "sellable":
                        self._stock_of(rma.warehouse, sku).on_hand += units
                        self._changed(rma.warehouse, sku)
                    elif grade == "unsellable":
                        key = (rma.warehouse, sku)
                        self.written_off[key] = self.written_off.get(key, 0) + units
            rma.status, rma.inspected_at, rma.updated_at, rma.next_at = "inspected", self.now, self.now, 0.0
            self._emit("return", rma)
            return rma

    def cancel_return(self, reference: str) -> SimReturn:
        with self.lock:
            rma = self.find_return(reference)
            if rma.status == "cancelled":
                return rma
            if rma.status != "created":
                self._refuse("not_cancellable", f"return {reference} is already {rma.status}")
            rma.status, rma.updated_at, rma.next_at = "cancelled", self.now, 0.0
            self._emit("return", rma)
            return rma

    def _due_return(self, target: float) -> SimReturn | None:
        due = [r for r in self.returns.values() if r.status in ("created", "received") and r.next_at
               and r.next_at <= target]
        return min(due, key=lambda r: r.next_at) if due else None

    def _step_return(self, rma: SimReturn) -> None:
        if rma.status == "created":
            self.receive_return(rma.reference)
        else:
            self.inspect_return(rma.reference)
