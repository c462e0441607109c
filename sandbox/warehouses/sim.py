"""The physical warehouse behind every provider emulator: stock, outbound orders moving through
picking -> shipped -> carrier events -> delivered on a controllable clock, exceptions, faults.

Each provider emulator (WINIT, Goodcang, ShipBob) is a protocol layer over one ``WarehouseSim``:
it checks the vendor's signature and rate limit, translates the vendor's request shapes into
calls here, and answers in the vendor's shapes. Time only moves when ``advance()`` is called (or
``run_clock()`` runs a background thread), so tests are deterministic. ``step_order()`` and
``raise_exception()`` move one parcel on at once, for the demo's control page. Returns (RMAs:
authorized -> received -> inspected, graded units restocked or written off) are the
:class:`~sandbox.warehouses.sim_returns.ReturnDesk` half of the sim.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.warehouses.sim_returns import INSPECT_AFTER, RETURN_TRANSIT, ReturnDesk

# Carrier-level events an order goes through after shipping; exceptions are spliced in.
NORMAL_TRACK = ("info_received", "in_transit", "out_for_delivery", "delivered")
EXCEPTIONS = ("customs_delay", "delivery_delay", "failed_attempt", "address_problem", "lost", "damaged",
              "returned_to_sender")
TERMINAL_EXCEPTIONS = {"lost", "damaged", "returned_to_sender"}
MOVING = ("received", "picking", "shipped")  # statuses with a next step still to come
STEP_GAP = 1.0  # seconds between a parcel's events when the control page moves it on: distinct
# timestamps (vendors report whole seconds), and a clock that runs in real time barely gets ahead


class SimError(Exception):
    """A request the warehouse refuses; ``code`` is mapped to the vendor's error by each emulator."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # duplicate_reference, unknown_sku, unknown_warehouse, insufficient_stock,
        # unknown_order, not_cancellable, not_moving (the control page only); returns: unknown_return,
        # not_receivable, not_inspectable


@dataclass
class Stock:
    on_hand: int = 0
    reserved: int = 0  # allocated to open outbound orders, still on the shelf
    inbound: int = 0
    inbound_eta: float | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class SimEvent:
    code: str  # one of NORMAL_TRACK or EXCEPTIONS, or "picked" / "shipped"
    at: float
    location: str = ""


@dataclass
class SimOrder:
    reference: str
    external_id: str
    warehouse: str
    lines: list[tuple[str, int]]
    address: dict
    created_at: float
    status: str = "received"  # received, picking, shipped, delivered, cancelled, exception
    tracking_number: str | None = None
    carrier: str | None = None
    shipped_at: float | None = None
    events: list[SimEvent] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)  # carrier events still to come
    next_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class SimInbound:
    reference: str
    external_id: str
    warehouse: str
    lines: list[tuple[str, int]]
    eta: float | None
    status: str = "created"


class WarehouseSim(ReturnDesk):
    def __init__(
        self,
        warehouses: dict[str, str],  # code -> country code
        *,
        seed: int | None = None,
        start: float | None = None,
        pick_after: float = 1800,  # seconds from received to picking
        ship_after: float = 3600,  # seconds from picking to shipped
        hop: float = 6 * 3600,  # seconds between carrier events
        carrier: str = "DHL",
        tracking_url: str = "https://www.dhl.com/track?tracking-id={}",
        return_transit: float = RETURN_TRANSIT,  # seconds from RMA to arrival
        inspect_after: float = INSPECT_AFTER,  # seconds from arrival to inspection
    ) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.now = start if start is not None else time.time()
        self.warehouses = dict(warehouses)
        self.skus: dict[str, dict] = {}
        self.stock: dict[tuple[str, str], Stock] = {}
        self.orders: dict[str, SimOrder] = {}
        self.inbounds: dict[str, SimInbound] = {}
        self.pick_after, self.ship_after, self.hop = pick_after, ship_after, hop
        self.carrier, self.tracking_url = carrier, tracking_url
        self.exception_rate = 0.0
        self.exception_kinds: tuple[str, ...] = EXCEPTIONS
        self._planned: dict[str, list[str]] = {}
        self._ids = itertools.count(100001)
        # Change log of stock, for "inventory changed since cursor" APIs: (seq, warehouse, sku).
        self.changes: list[tuple[int, str, str]] = []
        self._seq = itertools.count(1)
        self.listeners: list[Callable[[str, dict], None]] = []  # (kind, payload) for webhooks
        self.clock_speed = 0.0  # simulated seconds per real second while run_clock() runs
        self._clock_thread: threading.Thread | None = None
        self._clock_stop = threading.Event()
        self._init_returns(return_transit=return_transit, inspect_after=inspect_after)

    # -- seeding -----------------------------------------------------------------------------

    def add_sku(self, sku: str, **attrs) -> None:
        with self.lock:
            self.skus[sku] = {"sku": sku, **attrs}

    def set_stock(self, warehouse: str, sku: str, on_hand: int, *, inbound: int = 0, inbound_eta=None) -> None:
        with self.lock:
            self._check_warehouse(warehouse)
            self.skus.setdefault(sku, {"sku": sku})
            st = self.stock.setdefault((warehouse, sku), Stock())
            st.on_hand, st.inbound, st.inbound_eta = on_hand, inbound, inbound_eta
            self._changed(warehouse, sku)

    def plan_exceptions(self, reference: str, kinds: list[str]) -> None:
        """The next shipped order with this reference gets these carrier exceptions, in order."""
        for kind in kinds:
            if kind not in EXCEPTIONS:
                raise ValueError(kind)
        with self.lock:
            self._planned[reference] = list(kinds)

    def set_exception_rate(self, rate: float, kinds: tuple[str, ...] = EXCEPTIONS) -> None:
        self.exception_rate, self.exception_kinds = rate, kinds

    # -- requests ----------------------------------------------------------------------------

    def new_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids)}"

    def create_order(self, reference: str, warehouse: str, lines: list[tuple[str, int]], address: dict,
                     *, id_prefix: str = "") -> SimOrder:
        with self.lock:
            if reference in self.orders:
                raise SimError("duplicate_reference", f"order {reference} already exists")
            self._check_warehouse(warehouse)
            for sku, qty in lines:
                if sku not in self.skus:
                    raise SimError("unknown_sku", f"SKU {sku} is not registered")
                if qty <= 0:
                    raise SimError("invalid_quantity", f"quantity for {sku} must be positive")
                if self.stock.get((warehouse, sku), Stock()).available < qty:
                    raise SimError("insufficient_stock", f"not enough {sku} in {warehouse}")
            for sku, qty in lines:
                self.stock[(warehouse, sku)].reserved += qty
                self._changed(warehouse, sku)
            order = SimOrder(reference, self.new_id(id_prefix), warehouse, list(lines), dict(address),
                             created_at=self.now, next_at=self.now + self.pick_after, updated_at=self.now)
            self.orders[reference] = order
            return order

    def cancel_order(self, reference: str) -> SimOrder:
        with self.lock:
            order = self.get_order(reference)
            if order.status == "cancelled":
                return order
            if order.status not in ("received", "picking"):
                raise SimError("not_cancellable", f"order {reference} is already {order.status}")
            for sku, qty in order.lines:
                self.stock[(order.warehouse, sku)].reserved -= qty
                self._changed(order.warehouse, sku)
            order.status, order.updated_at = "cancelled", self.now
            self._emit("order", order)
            return order

    def get_order(self, reference: str) -> SimOrder:
        with self.lock:
            if reference not in self.orders:
                raise SimError("unknown_order", f"no order {reference}")
            return self.orders[reference]

    def create_inbound(self, reference: str, warehouse: str, lines, eta: float | None) -> SimInbound:
        with self.lock:
            if reference in self.inbounds:
                raise SimError("duplicate_reference", f"inbound {reference} already exists")
            self._check_warehouse(warehouse)
            inbound = SimInbound(reference, self.new_id("ASN"), warehouse, list(lines), eta)
            for sku, qty in lines:
                self.skus.setdefault(sku, {"sku": sku})
                st = self.stock.setdefault((warehouse, sku), Stock())
                st.inbound += qty
                st.inbound_eta = eta
                self._changed(warehouse, sku)
            self.inbounds[reference] = inbound
            return inbound

    def receive_inbound(self, reference: str) -> None:
        """The ASN arrives: inbound stock moves on hand."""
        with self.lock:
            inbound = self.inbounds[reference]
            for sku, qty in inbound.lines:
                st = self.stock[(inbound.warehouse, sku)]
                st.inbound -= qty
                st.on_hand += qty
                self._changed(inbound.warehouse, sku)
            inbound.status = "received"

    def changes_since(self, cursor: int, limit: int = 100) -> tuple[list[tuple[str, str]], int, bool]:
        """(warehouse, sku) pairs changed after ``cursor`` (deduplicated), the new cursor, more?"""
        with self.lock:
            after = [c for c in self.changes if c[0] > cursor]
            page, more = after[:limit], len(after) > limit
            new_cursor = page[-1][0] if page else cursor
            seen: dict[tuple[str, str], None] = {}
            for _, wh, sku in page:
                seen[(wh, sku)] = None
            return list(seen), new_cursor, more

    # -- time --------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the clock and let every order and return make the progress that time allows."""
        with self.lock:
            target = self.now + seconds
            while True:
                due = [o for o in self.orders.values() if o.status in MOVING and o.next_at and o.next_at <= target]
                order = min(due, key=lambda o: o.next_at) if due else None
                rma = self._due_return(target)
                if order is None and rma is None:
                    break
                if rma is not None and (order is None or rma.next_at < order.next_at):
                    self.now = max(self.now, rma.next_at)
                    self._step_return(rma)
                else:
                    self.now = max(self.now, order.next_at)
                    self._step(order)
            self.now = target

    def run_clock(self, speed: float = 3600.0, interval: float = 0.2) -> None:
        """Background clock: ``speed`` simulated seconds per real second (1.0 follows real time).
        Called again while running, it only changes the speed."""
        def loop(stop: threading.Event):
            last = time.monotonic()
            while not stop.wait(interval):
                now = time.monotonic()
                # Elapsed real time, not the nominal interval: a late wake-up must not slow the clock.
                self.advance((now - last) * self.clock_speed)
                last = now

        with self.lock:  # one clock thread, however many callers race here
            self.clock_speed = float(speed)
            if self._clock_thread is not None and self._clock_thread.is_alive():
                return
            self._clock_stop = threading.Event()
            self._clock_thread = threading.Thread(target=loop, args=(self._clock_stop,), name="warehouse-clock",
                                                  daemon=True)
            self._clock_thread.start()

    def stop_clock(self) -> None:
        with self.lock:
            self._clock_stop.set()
            self.clock_speed = 0.0
            thread, self._clock_thread = self._clock_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    # -- one parcel at a time (the demo's control page) ---------------------------------------

    def step_order(self, reference: str) -> SimOrder:
        """The order's next step (picked, shipped, the next carrier event) happens now, whatever
        its planned time; every listener hears it as if the clock had reached it. Now is at least
        ``STEP_GAP`` after the order's last event (the clock moves on that far if needed): events
        sharing one timestamp would leave their order to whoever sorts them."""
        with self.lock:
            order = self.get_order(reference)
            if order.status not in MOVING or not order.next_at:
                raise SimError("not_moving", f"order {reference} is {order.status}: nothing more happens to it")
            last = order.events[-1].at if order.events else order.created_at
            order.next_at = max(self.now, last + STEP_GAP)
            self.advance(order.next_at - self.now)
            return order

    def raise_exception(self, reference: str, kind: str) -> SimOrder:
        """The carrier reports ``kind`` for this parcel now (shipping it first if it is still in
        the building); a terminal kind (lost, damaged, returned) ends its journey."""
        if kind not in EXCEPTIONS:
            raise ValueError(kind)
        with self.lock:
            order = self.get_order(reference)
            if order.status not in MOVING:
                raise SimError("not_moving", f"order {reference} is {order.status}: nothing more happens to it")
            while order.status != "shipped":
                self.step_order(reference)
            if kind in TERMINAL_EXCEPTIONS:
                order.plan = [kind]
            else:
                order.plan.insert(0, kind)
            return self.step_order(reference)

    def _step(self, order: SimOrder) -> None:
        order.updated_at = self.now
        if order.status == "received":
            order.status, order.next_at = "picking", self.now + self.ship_after
            order.events.append(SimEvent("picked", self.now))
        elif order.status == "picking":
            order.status = "shipped"
            order.shipped_at = self.now
            order.carrier = self.carrier
            order.tracking_number = f"JD{self.rng.randrange(10**15, 10**16)}"
            for sku, qty in order.lines:  # leaves the building: on hand and reservation both drop
                st = self.stock[(order.warehouse, sku)]
                st.on_hand -= qty
                st.reserved -= qty
                self._changed(order.warehouse, sku)
            order.events.append(SimEvent("shipped", self.now))
            order.plan = self._plan(order.reference)
            order.next_at = self.now + self.hop
        else:
            code = order.plan.pop(0)
            order.events.append(SimEvent(code, self.now, location=self.warehouses.get(order.warehouse, "")))
            if code == "delivered":
                order.status, order.next_at = "delivered", 0.0
            elif code in TERMINAL_EXCEPTIONS:
                order.status, order.next_at = "exception", 0.0
            else:
                order.next_at = self.now + self.hop if order.plan else 0.0
        self._emit("order", order)

    def _plan(self, reference: str) -> list[str]:
        track = list(NORMAL_TRACK)
        extra = self._planned.pop(reference, None)
        if extra is None and self.rng.random() < self.exception_rate:
            extra = [self.rng.choice(self.exception_kinds)]
        for kind in extra or []:
            if kind in TERMINAL_EXCEPTIONS:
                track = [*track[:2], kind]  # the parcel never arrives
                break
            position = {"customs_delay": 1, "delivery_delay": 2, "failed_attempt": 3, "address_problem": 3}[kind]
            track.insert(min(position, len(track) - 1), kind)
        return track

    # -- helpers -----------------------------------------------------------------------------

    def _check_warehouse(self, warehouse: str) -> None:
        if warehouse not in self.warehouses:
            raise SimError("unknown_warehouse", f"warehouse {warehouse} does not exist")

    def _refuse(self, code: str, message: str):
        raise SimError(code, message)

    def _stock_of(self, warehouse: str, sku: str) -> Stock:
        self.skus.setdefault(sku, {"sku": sku})
        return self.stock.setdefault((warehouse, sku), Stock())

    def _changed(self, warehouse: str, sku: str) -> None:
        self.changes.append((next(self._seq), warehouse, sku))
        self._emit("stock", {"warehouse": warehouse, "sku": sku})

    def _emit(self, kind: str, payload) -> None:
        for listener in list(self.listeners):
            listener(kind, payload)
