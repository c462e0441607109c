"""A strict emulator of ShipBob's dated REST API (2025-07, 2026-01, 2026-07) over the shared
warehouse sim, for tests, benchmarks and the demo.

What it enforces, as ShipBob does (https://developer.shipbob.com):

* ``Authorization: Bearer <PAT>``: missing or wrong -> 401 (empty body, ``WWW-Authenticate``);
* the dated version as first path segment (``/2026-07/order``): anything else -> 404;
* ``shipbob_channel_id`` on channel-scoped writes (``POST /order``, ``POST /return``,
  ``POST /shipment:batchCancel``): missing -> 400, another channel -> 403;
* 150 requests per minute per token, sliding window -> 429 with ``x-retry-after`` (seconds) and
  ``x-remaining-calls``, body ``{"statusCode": 429, "message": "Rate limit is exceeded. Try again in
  N seconds."}`` (https://developer.shipbob.com/rate-limit). Every over-limit request is also kept in
  :attr:`ShipBobEmulator.violations`;
* validation errors as ShipBob's shapes: ``{field: [messages]}`` (orders), RFC 7807
  ``ValidationProblemDetails`` (products, inventory, receiving), ``{message, errors}`` (returns);
  a duplicate ``reference_id`` in a channel -> 422 ``{"": ["Cannot insert order with existing
  ReferenceId"]}``; unknown SKUs, inventory ids and fulfillment centers are refused.

Orders ShipBob cannot release are kept here, not in the sim: an address without a postcode in a
country that needs one goes ``OnHold``/``InvalidAddress`` (401), an order the chosen center lacks
stock for goes ``Exception``/``OutOfStock`` (303), each with its webhook. Everything else is a sim
order; ``advance()`` moves it (webhooks ``order.shipped``, ``order.shipment.tracking.updated``,
``order.shipment.delivered``, ``order.delivered``, ``order.shipment.cancelled``).
"""

from __future__ import annotations

import base64
import itertools
import math
import threading
import time
from collections import deque

from flask import Flask, Response, abort, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from ..server import ServerThread
from . import shipbob_catalog, shipbob_orders
from .faults import Faults
from .shipbob_views import CARRIER_CODES, EmuOrder, Renderer, iso
from .shipbob_webhooks import TOPICS, Dispatcher
from .sim import WarehouseSim

API_VERSIONS = ("2025-07", "2026-01", "2026-07")
DEFAULT_VERSION = "2026-07"
DEFAULT_SECRET = "whsec_" + base64.b64encode(b"nearstock-shipbob-emulator-key-32").decode()
DEFAULT_CENTERS = {
    10: {"name": "Cicero (IL)", "country": "US", "state": "IL", "city": "Cicero", "zip_code": "60804",
         "timezone": "Central Standard Time", "address1": "5900 W Ogden Ave"},
    22: {"name": "Moreno Valley (CA)", "country": "US", "state": "CA", "city": "Moreno Valley",
         "zip_code": "92551", "timezone": "Pacific Standard Time", "address1": "17800 Perris Blvd"},
    87: {"name": "Venlo (NL)", "country": "NL", "state": "LI", "city": "Venlo", "zip_code": "5928",
         "timezone": "W. Europe Standard Time", "address1": "Columbusweg 1"},
}


class _Handler(WSGIRequestHandler):
    """werkzeug's dev server drops request headers containing ``_`` (anti-spoofing, like nginx's
    default); ShipBob's API takes ``shipbob_channel_id``, so this server keeps them."""

    def make_environ(self):
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                environ.setdefault("HTTP_" + key.upper().replace("-", "_"), value)
        return environ

    def log_request(self, *args, **kwargs) -> None:
        pass


class _Server(ServerThread):
    """sandbox.server.ServerThread with the handler above (its constructor has no handler hook)."""

    def __init__(self, wsgi_app, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(host, port, wsgi_app, threaded=True, request_handler=_Handler)
        self._server.daemon_threads = True
        self.host, self.port = host, self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"shipbob-{self.port}", daemon=True)
        self._thread.start()


class SlidingWindow:
    """ShipBob's limit: at most ``limit`` accepted requests in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.hits: deque[float] = deque()
        self.lock = threading.Lock()

    def hit(self) -> tuple[float | None, int]:
        """(retry_after if refused else None, calls remaining)."""
        with self.lock:
            now = time.monotonic()
            while self.hits and self.hits[0] <= now - self.window:
                self.hits.popleft()
            if len(self.hits) >= self.limit:
                return self.hits[0] + self.window - now, 0
            self.hits.append(now)
            return None, self.limit - len(self.hits)


class ShipBobEmulator:
    """One ShipBob account: a PAT ``token`` and its write channel ``channel_id``.

    ``fulfillment_centers``: id -> country code or a dict (``name``, ``country``, ``state``,
    ``city``…); ``app_webhook_url``: a subscription to every topic of ``api_version`` signed with
    ``webhook_secret`` is seeded for it; ``rate_limit_per_min`` over ``rate_window_s`` seconds
    (shrink the window to test the limiter quickly); ``fault_rate``/``fault_kinds`` inject 429,
    500 and slow answers; ``webhook_retry_scale`` multiplies ShipBob's retry waits.
    """

    def __init__(self, token: str, *, channel_id: int = 100102, channel_name: str = "Nearstock API",
                 webhook_secret: str = DEFAULT_SECRET, app_webhook_url: str | None = None,
                 fulfillment_centers: dict | None = None, seed: int | None = None, rate_limit_per_min: int = 150,
                 rate_window_s: float = 60.0, fault_rate: float = 0.0, fault_kinds=("429", "500", "slow"),
                 webhook_retry_scale: float = 0.01, api_version: str = DEFAULT_VERSION,
                 sim: WarehouseSim | None = None) -> None:
        self.token, self.channel_id, self.channel_name = token, int(channel_id), channel_name
        self.webhook_secret, self.api_version = webhook_secret, api_version
        centers = fulfillment_centers or DEFAULT_CENTERS
        self.centers: dict[int, dict] = {
            int(fc_id): (dict(info) if isinstance(info, dict) else {"name": f"FC {fc_id} ({info})", "country": info})
            for fc_id, info in centers.items()}
        self.sim = sim or WarehouseSim({str(i): c["country"] for i, c in self.centers.items()}, seed=seed)
        self.lock = self.sim.lock  # one lock for sim and emulator state: no lock-order inversions
        self.renderer = Renderer(self)
        self.limiter = SlidingWindow(rate_limit_per_min, rate_window_s)
        self.faults = Faults(fault_rate, fault_kinds, seed=seed, slow_seconds=2.0)
        self.dispatcher = Dispatcher(retry_scale=webhook_retry_scale)
        self.calls: list[dict] = []
        self.violations: list[dict] = []
        self.products: dict[int, dict] = {}
        self.variants: dict[str, dict] = {}  # sku -> variant
        self.orders: dict[int, EmuOrder] = {}
        self.by_reference: dict[tuple[int, str], EmuOrder] = {}
        self.wros: dict[int, dict] = {}
        self.returns: dict[int, dict] = {}
        self.return_status_override: dict[int, str] = {}  # return id -> status to answer instead (tests)
        self.subscriptions: dict[str, dict] = {}
        self._ids = {name: itertools.count(start) for name, start in
                     (("order", 310000001), ("shipment", 410000001), ("product", 5000001), ("variant", 6000001),
                      ("inventory", 7000001), ("wro", 800001), ("return", 900001), ("webhook", 1))}
        if app_webhook_url:
            self.subscriptions["1"] = {"id": "1", "url": app_webhook_url, "secret": webhook_secret,
                                       "topics": list(TOPICS[api_version]), "description": "Nearstock",
                                       "created_at": "2026-01-01T00:00:00Z"}
            next(self._ids["webhook"])
        for fc_id, center in self.centers.items():  # returns go to the fulfillment center itself
            self.sim.return_addresses[str(fc_id)] = {
                "name": center["name"], "address1": center.get("address1") or "", "address2": None,
                "city": center.get("city") or "", "zip": center.get("zip_code") or "",
                "province": center.get("state"), "country_code": center["country"], "phone": None}
        self.sim.listeners.append(self._on_sim)
        self.server = None
        self.wsgi_app = self._build_app()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> ShipBobEmulator:
        self.server = _Server(self.wsgi_app, port=port)
        return self

    @property
    def url(self) -> str:
        return self.server.url if self.server else ""

    def stop(self) -> None:
        self.sim.stop_clock()
        self.dispatcher.stop()
        if self.server:
            self.server.shutdown()
            self.server = None

    # -- seeding and inspection ----------------------------------------------------------------

    def new_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def add_product(self, sku: str, name: str | None = None, **variant_fields) -> dict:
        """A product with one variant (what ``POST /product`` creates); returns the variant."""
        with self.lock:
            product = {"id": self.new_id("product"), "name": name or sku, "type": "Regular",
                       "created_on": "2026-01-01T00:00:00Z", "updated_on": None, "variants": []}
            self.products[product["id"]] = product
            return self.add_variant(product, {"sku": sku, "name": name or sku, **variant_fields})

    def add_variant(self, product: dict, fields: dict) -> dict:
        variant = {"id": self.new_id("variant"), "product_id": product["id"], "status": "Active",
                   "inventory": {"inventory_id": self.new_id("inventory"), "on_hand_qty": 0}, **fields}
        product["variants"].append(variant)
        self.variants[variant["sku"]] = variant
        self.sim.add_sku(variant["sku"], name=variant.get("name"))
        return variant

    def variant_by_sku(self, sku: str) -> dict:
        return self.variants[sku]

    def variant_by_inventory(self, inventory_id) -> dict | None:
        return next((v for v in self.variants.values() if v["inventory"]["inventory_id"] == inventory_id), None)

    def set_stock(self, fc_id: int, sku: str, on_hand: int, *, inbound: int = 0) -> None:
        with self.lock:
            if sku not in self.variants:
                self.add_product(sku)
            self.sim.set_stock(str(fc_id), sku, on_hand, inbound=inbound)

    def receive_wro(self, wro_id: int) -> None:
        """The boxes of a Warehouse Receiving Order arrive and are stowed."""
        with self.lock:
            wro = self.wros[wro_id]
            self.sim.receive_inbound(wro["sim_reference"])
            wro["updated"] = self.iso_now()

    def advance(self, seconds: float) -> None:
        self.sim.advance(seconds)

    def flush_webhooks(self, timeout: float = 5.0) -> bool:
        return self.dispatcher.flush(timeout)

    @property
    def deliveries(self) -> list[dict]:
        return self.dispatcher.deliveries

    def iso_now(self) -> str:
        return iso(self.sim.now)

    # -- webhooks ------------------------------------------------------------------------------

    def emit(self, topic: str, payload: dict) -> None:
        for sub in list(self.subscriptions.values()):
            if topic in sub["topics"]:
                self.dispatcher.enqueue(url=sub["url"], secret=sub["secret"], topic=topic, payload=payload)

    def _on_sim(self, kind: str, obj) -> None:
        """Sim changes -> ShipBob topics (called under the sim lock, so rendering is consistent)."""
        if kind == "return":
            ret = next((x for x in self.returns.values() if x["_sim_reference"] == obj.reference), None)
            if ret is not None:
                view = self.renderer.return_view(ret)
                self.emit("return.completed" if obj.status == "inspected" else "return.updated", view)
            return
        if kind != "order":
            return
        order = self.by_reference.get((self.channel_id, obj.reference))
        if order is None or not order.in_sim:
            return
        r = self.renderer
        if obj.status == "cancelled":
            self.emit("order.shipment.cancelled", r.shipment(order))
            return
        last = obj.events[-1] if obj.events else None
        if last is None or last.code == "picked":
            return
        if last.code == "shipped":
            self.emit("order.shipped", r.shipment(order))
        elif last.code in CARRIER_CODES:
            self.emit("order.shipment.tracking.updated", r.tracking_payload(order, last.code, last.at, last.location))
            if last.code == "delivered":
                self.emit("order.shipment.delivered", r.shipment(order))
                self.emit("order.delivered", r.order(order))

    # -- HTTP plumbing -------------------------------------------------------------------------

    @staticmethod
    def fields(errors: dict, status: int = 400) -> Response:
        """Orders' error shape: ``{field: [messages]}``."""
        response = jsonify(errors)
        response.status_code = status
        return response

    @staticmethod
    def problem(errors: dict, status: int = 400, title: str = "One or more validation errors occurred.") -> Response:
        """RFC 7807 ValidationProblemDetails (products, inventory, receiving)."""
        response = jsonify({"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": title,
                            "status": status, "errors": errors, "traceId": f"00-{time.time_ns():032x}-00"})
        response.status_code = status
        return response

    @staticmethod
    def not_found(what: str = "Not Found") -> Response:
        response = jsonify({"message": what})
        response.status_code = 404
        return response

    def json_body(self, *, problem: bool = False, kind: type = dict):
        data = request.get_json(silent=True)
        if not isinstance(data, kind):
            errors = {"": ["A non-empty request body is required."]}
            abort(self.problem(errors) if problem else self.fields(errors))
        return data

    def require_channel(self, required: bool) -> int | None:
        raw = request.headers.get("shipbob_channel_id")
        if raw is None:
            if required:
                abort(self.fields({"shipbob_channel_id": ["The shipbob_channel_id header is required."]}))
            return None
        if not raw.strip().isdigit() or int(raw) != self.channel_id:
            abort(Response(status=403))
        return int(raw)

    def _build_app(self) -> Flask:
        app = Flask("shipbob-emulator")
        app.url_map.strict_slashes = False

        @app.before_request
        def gate():
            if request.headers.get("Authorization", "") != f"Bearer {self.token}":
                return Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            retry_after, remaining = self.limiter.hit()
            request.environ["shipbob.remaining"] = remaining
            if retry_after is not None:
                wait = max(1, math.ceil(retry_after))
                self.violations.append({"path": request.path, "at": time.time(), "retry_after": wait})
                return self._too_many(wait)
            fault = self.faults.draw()
            if fault == "429":
                return self._too_many(1)
            if fault == "500":
                return Response('{"message":"An error has occurred."}', status=500, mimetype="application/json")
            version = request.path.split("/")[1] if request.path.count("/") >= 2 else ""
            if version not in API_VERSIONS:
                return self.not_found()
            return None

        @app.after_request
        def record(response):
            self.calls.append({"method": request.method, "path": request.path, "status": response.status_code,
                               "at": time.time()})
            if "shipbob.remaining" in request.environ:
                response.headers["x-remaining-calls"] = str(request.environ["shipbob.remaining"])
            return response

        @app.errorhandler(404)
        def missing(_):
            return self.not_found()

        @app.errorhandler(405)
        def method(_):
            return Response('{"message":"The requested resource does not support this http method."}',
                            status=405, mimetype="application/json")

        shipbob_orders.register(app, self)
        shipbob_catalog.register(app, self)
        return app

    def _too_many(self, wait: int) -> Response:
        response = jsonify({"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {wait} seconds."})
        response.status_code = 429
        response.headers["x-retry-after"] = str(wait)
        response.headers["x-remaining-calls"] = "0"
        return response
