"""A strict emulator of Goodcang's open API (谷仓 ``oms.goodcang.net/public_open``) over a
:class:`~sandbox.warehouses.sim.WarehouseSim`.

    emulator = GoodcangEmulator("key", "token", warehouses={"USEA": "US", "DE": "DE"}).start()
    emulator.sim.set_stock("USEA", "SKU-1", 10)
    requests.post(emulator.endpoint + "/order/get_order_by_ref_code", json={...},
                  headers={"app-key": "key", "app-token": "token"})
    emulator.stop()

What it enforces, in the order a request meets it: injected faults (``429`` / ``500`` from the
gateway, or a slow answer), the per-``app-key`` rate limit (over it: Goodcang's throttling answer,
HTTP 403, and an entry in ``violations``), ``POST`` only, the ``app-key`` / ``app-token`` pair
(HTTP 401), a known action (HTTP 404), a JSON object body, then each action's required fields,
duplicate reference numbers, unknown SKUs and warehouses. Answers use Goodcang's envelopes and
Beijing times (see :mod:`sandbox.warehouses.goodcang_protocol`); actions live in
``goodcang_orders`` and ``goodcang_stock``.
"""

from __future__ import annotations

import json
import threading
import time

from werkzeug.wrappers import Request, Response

from ..server import serve
from . import goodcang_orders, goodcang_stock
from .faults import Faults
from .goodcang_protocol import BEIJING, GoodcangFailure, failure
from .sim import SimOrder, WarehouseSim

# No published figure was found; 5 requests/second per app-key (burst 5) is this project's
# assumption, shared with connectors.warehouses.goodcang.GoodcangProvider.
RATE_LIMIT = 5.0
PREFIX = "/public_open/"
DEFAULT_WAREHOUSES = {"USEA": "US", "DE": "DE"}
WAREHOUSE_NAMES = {"USEA": "美东仓库", "USWE": "美西仓库", "USSO": "美南仓库", "DE": "德国仓库", "UK": "英国仓库",
                   "FRVI": "法国仓库", "CZ": "捷克仓库", "ES": "西班牙仓库", "AU": "澳洲仓库", "JP": "日本仓库"}
SHIPPING_METHODS = {"US": ("FEDEX-SMALLPARCEL", "USPS-PRIORITY"), "DE": ("DHL-PAKET", "DPD-PARCEL"),
                    "GB": ("ROYALMAIL-TRACKED48",), "FR": ("COLISSIMO-EXPERT",)}
ACTIONS = {**goodcang_orders.ACTIONS, **goodcang_stock.ACTIONS}


class GoodcangEmulator:
    """One Goodcang customer account (``app_key`` / ``app_token``) with its warehouses.

    ``calls`` lists every request (action, HTTP status, errCode); ``violations`` the requests that
    arrived above ``rate_limit`` (requests/second, burst ``burst``, default ``rate_limit``).
    ``jitter_allowance`` tokens of slack absorb a request that arrives a little early because the
    network delayed the previous one. ``faults`` is the :class:`Faults` in use (``slow_seconds``
    can be changed). ``start`` (epoch seconds) and ``sim_options`` go to :class:`WarehouseSim`.
    """

    customer_code = "G1149"
    jitter_allowance = 1.0

    def __init__(self, app_key: str, app_token: str, *, warehouses: dict[str, str] | None = None,
                 seed: int | None = None, rate_limit: float | None = RATE_LIMIT, burst: float | None = None,
                 fault_rate: float = 0.0, fault_kinds=("429", "500", "slow"), start: float | None = None,
                 slow_seconds: float = 6.0, **sim_options) -> None:
        self.app_key = app_key
        self.app_token = app_token
        self.sim = WarehouseSim(dict(warehouses or DEFAULT_WAREHOUSES), seed=seed, start=start, **sim_options)
        self.faults = Faults(fault_rate, fault_kinds, seed=seed, slow_seconds=slow_seconds)
        self.rate_limit = rate_limit
        self.burst = burst if burst is not None else (rate_limit or 0.0)
        self.calls: list[dict] = []
        self.violations: list[dict] = []
        self.lock = threading.Lock()  # buckets, calls, violations; Goodcang state sits under sim.lock
        self._buckets: dict[str, tuple[float, float]] = {}
        # Goodcang-side records (the sim knows stock and parcels; these carry Goodcang's numbers).
        self.products: dict[str, dict] = {}
        self.orders: dict[str, dict] = {}  # reference -> order meta
        self.order_codes: dict[str, str] = {}  # order_code -> reference
        self.inbounds: dict[str, dict] = {}  # reference -> GRN meta
        self.returns: dict[str, dict] = {}  # reference -> return meta
        self.inventory_log: list[dict] = []
        self._on_hand: dict[tuple[str, str], int] = {}
        self._sequences: dict[str, int] = {}
        self.sim.listeners.append(self._on_sim_event)
        self.wsgi_app = self._wsgi
        self.server = None
        self.url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GoodcangEmulator:
        self.server = serve(self.wsgi_app)
        self.url = self.server.url
        return self

    def stop(self) -> None:
        self.sim.stop_clock()
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    @property
    def endpoint(self) -> str:
        """The base URL a client is configured with (``…/public_open``)."""
        if self.url is None:
            raise RuntimeError("emulator not started")
        return self.url + PREFIX.rstrip("/")

    # -- helpers for actions and tests -------------------------------------------------------

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

    # -- WSGI --------------------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        status, body, headers = self._handle(request)
        if isinstance(body, str):
            response = Response(body, status=status, mimetype="text/html", headers=headers)
        else:
            response = Response(json.dumps(body, ensure_ascii=False), status=status,
                                mimetype="application/json", headers=headers)
        return response(environ, start_response)

    def _handle(self, request: Request):
        action = request.path[len(PREFIX):].strip("/") if request.path.startswith(PREFIX) else request.path
        fault = self.faults.draw()
        if fault == "429":
            return self._log(action, 429, None, "<html><body><h1>429 Too Many Requests</h1></body></html>",
                             {"Retry-After": "1"})
        if fault == "500":
            return self._log(action, 500, None, "<html><body><h1>500 Internal Server Error</h1></body></html>")
        key = request.headers.get("app-key", "")
        if not self._take(key):
            with self.lock:
                self.violations.append({"action": action, "app_key": key, "at": time.time()})
            return self._fail(action, failure("throttled", http=403))
        if request.method != "POST":
            return self._fail(action, failure("bad_method", http=405))
        if key != self.app_key or request.headers.get("app-token", "") != self.app_token:
            return self._fail(action, failure("auth", http=401))
        handler = ACTIONS.get(action) if request.path.startswith(PREFIX) else None
        if handler is None:
            return self._fail(action, failure("no_action", http=404))
        try:
            body = self._json(request)
            with self.sim.lock:
                answer = handler(self, body)
        except GoodcangFailure as exc:
            return self._fail(action, exc)
        return self._log(action, 200, None, answer)

    @staticmethod
    def _json(request: Request) -> dict:
        raw = request.get_data(cache=False)
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise failure("bad_json") from None
        if body == []:  # PHP clients send json_encode([]) for "no parameters"
            return {}
        if not isinstance(body, dict):
            raise failure("bad_json")
        return body

    def _fail(self, action: str, exc: GoodcangFailure):
        return self._log(action, exc.http, exc.err_code, exc.body())

    def _log(self, action: str, status: int, err_code, body, headers=None):
        with self.lock:
            self.calls.append({"action": action, "status": status, "err_code": err_code, "at": time.time()})
        return status, body, headers or {}

    def _take(self, key: str) -> bool:
        if not self.rate_limit:
            return True
        now = time.monotonic()
        with self.lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate_limit)
            allowed = tokens >= 1.0 - self.jitter_allowance
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed

    # -- inventory log (Goodcang's get_inventory_log records on-hand moves) -------------------

    def _on_sim_event(self, kind: str, payload) -> None:
        if kind != "stock":
            return
        pair = (payload["warehouse"], payload["sku"])
        stock = self.sim.stock[pair]
        delta = stock.on_hand - self._on_hand.get(pair, 0)
        self._on_hand[pair] = stock.on_hand
        if delta:
            self.inventory_log.append(goodcang_stock.log_entry(self, pair, delta))
