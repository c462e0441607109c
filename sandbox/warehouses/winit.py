"""A strict emulator of WINIT's (万邑通) open API gateway over the shared WarehouseSim.

    emulator = WinitEmulator("seller@example.com", "TOKEN", platform="NEARSTOCK").start()
    provider = WinitProvider({...}, redis=r, account_key="x", endpoint=emulator.url)
    emulator.sim.advance(3600)          # the warehouse works
    emulator.stop()

One ``POST /openapi/service`` takes the JSON envelope ``{action, app_key, data, format, platform,
sign, sign_method, timestamp, version, language[, client_id, client_sign]}``; it answers HTTP 200
with ``{"code", "msg", "data"}``. It refuses (with the codes of :mod:`winit_protocol`): a wrong or
missing sign (computed over ``data`` re-serialised sorted and without nulls, so unsorted or
null-bearing data signed as sent fails), an unknown app_key or platform, a timestamp more than
``timestamp_window`` seconds from Beijing time, an unknown action, invalid data, duplicate seller
order numbers, unknown SKUs and warehouses, and request fields the SDK's class for that action
does not declare. ``split_zones`` (SKU -> stock zone) makes it split an order whose lines sit in
different zones, as WINIT does (see :mod:`winit_outbound`). Requests above ``rate_limit`` per
second per app_key are counted in ``violations`` and answered with the throttling error.
``faults`` injects gateway 429s, 500s and slow answers at a rate.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

from werkzeug.wrappers import Request, Response

from sandbox.server import ServerThread, serve
from sandbox.warehouses.faults import Faults
from sandbox.warehouses.sim import WarehouseSim
from sandbox.warehouses.winit_actions import ACTIONS, WinitActions
from sandbox.warehouses.winit_protocol import (
    BEIJING,
    E_ACTION,
    E_APP_KEY,
    E_INVALID,
    E_SIGN,
    E_SYSTEM,
    E_THROTTLED,
    E_TIMESTAMP,
    MESSAGES,
    OK,
    WinitError,
    expected_sign,
    invalid,
)

GATEWAY_PATH = "/openapi/service"  # WinitClient.java HOST
RATE_LIMIT = 10.0  # requests per second per app_key: no public source: assumed
ENVELOPE_FIELDS = ("action", "app_key", "format", "sign_method", "timestamp", "version")


class WinitEmulator:
    def __init__(self, app_key: str, token: str, *, platform: str = "NEARSTOCK",
                 warehouses: dict[str, str] | None = None, seed: int | None = None,
                 rate_limit: float | None = RATE_LIMIT, fault_rate: float = 0.0,
                 client_id: str | None = None, client_secret: str | None = None,
                 timestamp_window: float = 600.0, split_zones: dict[str, str] | None = None) -> None:
        self.app_key, self.token, self.platform = app_key, token, platform
        self.client_id, self.client_secret = client_id, client_secret
        self.sim = WarehouseSim(dict(warehouses or {"DEWH": "DE", "USWC": "US"}), seed=seed)
        self.actions = WinitActions(self.sim)
        self.actions.split_zones.update(split_zones or {})
        self.faults = Faults(fault_rate, seed=seed, slow_seconds=2.0)
        self.rate_limit = rate_limit
        self.timestamp_window = timestamp_window
        self.calls: list[dict] = []
        self.violations = 0
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # app_key -> (tokens, at)
        self._server: ServerThread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int = 0) -> WinitEmulator:
        if self._server is None:
            self._server = serve(self.wsgi_app, port=port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.sim.stop_clock()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("WinitEmulator not started")
        return self._server.url + GATEWAY_PATH

    def calls_to(self, action: str) -> list[dict]:
        return [call for call in self.calls if call["action"] == action]

    # -- gateway ---------------------------------------------------------------------------

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        if request.path != GATEWAY_PATH:
            return Response("Not Found", status=404)(environ, start_response)
        if request.method != "POST":
            return Response("Method Not Allowed", status=405, headers={"Allow": "POST"})(environ, start_response)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._answer({}, E_INVALID, "请求报文不是合法的JSON对象")
        if self._over_rate(str(body.get("app_key", ""))):
            with self._lock:
                self.violations += 1
            return self._answer(body, E_THROTTLED)
        fault = self.faults.draw()  # "slow" sleeps here, then the request is served normally
        if fault == "429":
            self._log(body, E_THROTTLED, 429)
            return Response(json.dumps({"code": E_THROTTLED, "msg": MESSAGES[E_THROTTLED], "data": None}),
                            status=429, headers={"Retry-After": "1"}, content_type="application/json")
        if fault == "500":
            self._log(body, "http500", 500)
            return Response("<html><body><h1>500 Internal Server Error</h1></body></html>", status=500,
                            content_type="text/html")
        try:
            self._authenticate(body)
            method = ACTIONS.get(body["action"])
            if method is None:
                raise WinitError(E_ACTION, f"接口不存在: {body['action']}")
            data = body.get("data") if body.get("data") is not None else {}
            if not isinstance(data, dict):
                raise invalid("data", "必须为JSON对象")
            with self.sim.lock:
                result = getattr(self.actions, method)(data)
        except WinitError as exc:
            return self._answer(body, exc.code, exc.msg)
        except Exception as exc:  # an emulator bug must still look like WINIT's answer
            return self._answer(body, E_SYSTEM, f"{MESSAGES[E_SYSTEM]}: {type(exc).__name__}: {exc}")
        return self._answer(body, OK, data=result)

    def _authenticate(self, body: dict) -> None:
        for field in ENVELOPE_FIELDS:
            if not isinstance(body.get(field), str) or body[field] == "":
                raise invalid(field)
        if body["format"] != "json" or body["sign_method"] != "md5" or body["version"] != "1.0":
            raise invalid("format", "format须为json, sign_method须为md5, version须为1.0")
        if body["app_key"] != self.app_key or str(body.get("platform", "")) != self.platform:
            raise WinitError(E_APP_KEY)
        if not body.get("sign"):
            raise WinitError(E_SIGN, "[sign]签名不能为空")
        if body["sign"] != expected_sign(self.token, body):
            raise WinitError(E_SIGN)
        if self.client_secret is not None:
            if body.get("client_id") != self.client_id:
                raise WinitError(E_APP_KEY, "client_id不存在或未授权")
            if body.get("client_sign") != expected_sign(self.client_secret, body):
                raise WinitError(E_SIGN, "应用签名(client_sign)错误")
        try:
            sent = datetime.strptime(body["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).timestamp()
        except ValueError as exc:
            raise WinitError(E_TIMESTAMP, "时间戳格式应为yyyy-MM-dd HH:mm:ss") from exc
        if abs(sent - time.time()) > self.timestamp_window:
            raise WinitError(E_TIMESTAMP)

    def _over_rate(self, app_key: str) -> bool:
        """Token bucket per app_key holding one second's worth; True when the request is over."""
        if not self.rate_limit:
            return False
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(app_key, (self.rate_limit, now))
            tokens = min(self.rate_limit, tokens + (now - at) * self.rate_limit)
            over = tokens < 1.0
            self._buckets[app_key] = (tokens if over else tokens - 1.0, now)
            return over

    def _answer(self, body: dict, code: str, msg: str | None = None, *, data=None) -> Response:
        self._log(body, code, 200)
        payload = {"code": code, "msg": msg or MESSAGES.get(code, ""), "data": data}
        return Response(json.dumps(payload, ensure_ascii=False), status=200,
                        content_type="application/json;charset=UTF-8")

    def _log(self, body: dict, code: str, status: int) -> None:
        with self._lock:
            self.calls.append({"action": body.get("action"), "app_key": body.get("app_key"), "code": code,
                               "http_status": status, "fields": sorted(body), "at": time.time()})
