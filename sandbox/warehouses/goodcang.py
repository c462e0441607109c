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
request keys the SDK's payload classes do not have, duplicate reference numbers, unknown SKUs and
warehouses. Answers use Goodcang's envelopes and Beijing times (see
:mod:`sandbox.warehouses.goodcang_protocol`); the account's records live in
:mod:`sandbox.warehouses.goodcang_state`, the actions in ``goodcang_orders``, ``goodcang_stock``
and ``goodcang_inbound`` (which import neither this module nor each other).
"""

from __future__ import annotations

import json
import threading
import time

from werkzeug.wrappers import Request, Response

from ..server import serve
from . import goodcang_inbound, goodcang_orders, goodcang_stock
from .faults import Faults
from .goodcang_protocol import GoodcangFailure, failure
from .goodcang_state import GoodcangAccount

RATE_LIMIT = 5.0  # no public source: assumed (requests/second per app-key), as the connector assumes
PREFIX = "/public_open/"  # sdk:GoodCangClient.java HOST ".../public_open"
DEFAULT_WAREHOUSES = {"USEA": "US", "DE": "DE"}
ACTIONS = {**goodcang_orders.ACTIONS, **goodcang_stock.ACTIONS, **goodcang_inbound.ACTIONS}


class GoodcangEmulator(GoodcangAccount):
    """One Goodcang customer account (``app_key`` / ``app_token``) with its warehouses.

    ``calls`` lists every request (action, HTTP status, errCode); ``violations`` the requests that
    arrived above ``rate_limit`` (requests/second, burst ``burst``, default ``rate_limit``).
    ``jitter_allowance`` tokens of slack absorb a request that arrives a little early because the
    network delayed the previous one. ``faults`` is the :class:`Faults` in use (``slow_seconds``
    can be changed). ``start`` (epoch seconds) and ``sim_options`` go to :class:`WarehouseSim`.
    """

    jitter_allowance = 1.0

    def __init__(self, app_key: str, app_token: str, *, warehouses: dict[str, str] | None = None,
                 seed: int | None = None, rate_limit: float | None = RATE_LIMIT, burst: float | None = None,
                 fault_rate: float = 0.0, fault_kinds=("429", "500", "slow"), start: float | None = None,
                 slow_seconds: float = 6.0, **sim_options) -> None:
        super().__init__(dict(warehouses or DEFAULT_WAREHOUSES), seed=seed, start=start, **sim_options)
        self.app_key = app_key
        self.app_token = app_token
        self.faults = Faults(fault_rate, fault_kinds, seed=seed, slow_seconds=slow_seconds)
        self.rate_limit = rate_limit
        self.burst = burst if burst is not None else (rate_limit or 0.0)
        self.calls: list[dict] = []
        self.violations: list[dict] = []
        self.lock = threading.Lock()  # buckets, calls, violations; Goodcang state sits under sim.lock
        self._buckets: dict[str, tuple[float, float]] = {}
        self.wsgi_app = self._wsgi
        self.server = None
        self.url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> GoodcangEmulator:
        self.server = serve(self.wsgi_app, port=port)
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
        key = request.headers.get("app-key", "")  # sdk:GoodCangClient.java headers app-key, app-token
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
