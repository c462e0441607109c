"""A strict emulator of the Amazon Selling Partner API for one seller account.

    emulator = AmazonEmulator("amzn1.application-oa2-client.x", "secret", "Atzr|refresh",
                              seller_id="A2SELLER", marketplaces=["A1PA6795UKMFR9"], seed=1).start()
    ... SpApiClient(..., endpoint=emulator.url, token_url=emulator.token_url) ...
    emulator.stop()

What a request meets, in order: the LWA token endpoint and consent page answer on their own
paths; API paths must be known operations (404), carry the emulator's ``Host`` and a
``User-Agent`` (400), and a live LWA access token in ``x-amz-access-token`` (403 ``Unauthorized``,
details say missing / invalid / expired). Then the operation's token bucket (429
``QuotaExceeded``, counted in ``violations``), injected faults (429/500/503 at ``fault_rate``, not
violations), a JSON body where one is sent (415 otherwise), and the operation's own checks
(declared query parameters only, lists as CSV, required fields, enums, formats: 400
``InvalidInput``). Every answer carries ``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit``.

``static_models`` (a folder of SP-API models, read at run time) turns the emulator into Amazon's
static sandbox for those models (see :mod:`.static_cases`). ``exchanges`` records every request
and answer so tests can validate both against the official models.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.wrappers import Request, Response

from ..server import serve
from ..warehouses.faults import Faults
from . import feeds_api, inventory_api, listings_api, mcf_api, orders_api
from .common import USAGE_PLANS, ApiError, Clock, Context, Limiter
from .lwa import Lwa
from .state import SellerState
from .static_cases import StaticSandbox

TOKEN_PATH = "/auth/o2/token"
CONSENT_PATH = "/apps/authorize/consent"
DOCUMENTS = "/_documents/"
FAULT_BODIES = {
    "429": (429, "QuotaExceeded", "You exceeded your quota for the requested resource."),
    "500": (500, "InternalFailure", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}


@dataclass
class Exchange:
    """One request to the emulator and its answer."""

    operation: str | None
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    def json(self):
        return json.loads(self.response_body) if self.response_body else None


class AmazonEmulator:
    """One seller account (``seller_id``) authorized for one LWA application (``client_id``)."""

    queue_seconds = 2.0  # feed IN_QUEUE time (emulator clock)
    process_seconds = 3.0  # feed IN_PROGRESS time

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, *, seller_id: str = "A2NEARSTOCK1",
                 marketplaces=("ATVPDKIKX0DER",), seed: int | None = 0, fault_rate: float = 0.0,
                 fault_kinds=("429", "500", "503"), orders: int = 20, skus: int = 8, rate_scale: float = 1.0,
                 token_ttl: int = 3600, application_id: str = "amzn1.sp.solution.nearstock-emulator",
                 redirect_uris=("https://nearstock.test/amazon/callback",), draft_app: bool = False,
                 static_models=None) -> None:
        self.clock = Clock()
        self.seller_id = seller_id
        self.lwa = Lwa(self.clock, client_id=client_id, client_secret=client_secret, refresh_token=refresh_token,
                       seller_id=seller_id, application_id=application_id, redirect_uris=tuple(redirect_uris),
                       draft_app=draft_app, token_ttl=token_ttl)
        self.state = SellerState(self.clock, seller_id, list(marketplaces), seed)
        self.state.seed(orders=orders, skus=skus)
        self.static = StaticSandbox(static_models) if static_models else None
        plans = {**USAGE_PLANS, **(self.static.plans() if self.static else {})}
        self.limiter = Limiter(plans, scale=rate_scale)
        self.faults = Faults(fault_rate, tuple(fault_kinds), seed=seed)
        self.exchanges: list[Exchange] = []
        self.lock = threading.RLock()
        self._exchange_lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._server = None
        self.routes = [(method, _pattern(template), key, handler) for method, template, key, handler in (
            ("GET", "/orders/2026-01-01/orders", "orders.searchOrders", orders_api.search_orders),
            ("GET", "/orders/2026-01-01/orders/{orderId}", "orders.getOrder", orders_api.get_order),
            ("POST", "/orders/v0/orders/{orderId}/shipmentConfirmation", "ordersV0.confirmShipment",
             orders_api.confirm_shipment),
            ("PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}", "listings.patchListingsItem",
             listings_api.patch_listings_item),
            ("POST", "/feeds/2021-06-30/documents", "feeds.createFeedDocument",
             lambda s, c: feeds_api.create_feed_document(s, c, self._secret)),
            ("POST", "/feeds/2021-06-30/feeds", "feeds.createFeed", feeds_api.create_feed),
            ("GET", "/feeds/2021-06-30/feeds/{feedId}", "feeds.getFeed", feeds_api.get_feed),
            ("GET", "/feeds/2021-06-30/documents/{feedDocumentId}", "feeds.getFeedDocument",
             lambda s, c: feeds_api.get_feed_document(s, c, self._secret)),
            ("GET", "/fba/inventory/v1/summaries", "fbaInventory.getInventorySummaries",
             inventory_api.get_inventory_summaries),
            ("POST", "/fba/outbound/2020-07-01/fulfillmentOrders", "fbaOutbound.createFulfillmentOrder",
             mcf_api.create_fulfillment_order),
            ("GET", "/fba/outbound/2020-07-01/fulfillmentOrders/{sellerFulfillmentOrderId}",
             "fbaOutbound.getFulfillmentOrder", mcf_api.get_fulfillment_order),
            ("PUT", "/fba/outbound/2020-07-01/fulfillmentOrders/{sellerFulfillmentOrderId}/cancel",
             "fbaOutbound.cancelFulfillmentOrder", mcf_api.cancel_fulfillment_order),
            ("GET", "/fba/outbound/2020-07-01/tracking", "fbaOutbound.getPackageTrackingDetails",
             mcf_api.get_package_tracking_details),
        )]

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, port: int = 0) -> AmazonEmulator:
        self._server = serve(self.wsgi_app, port=port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> AmazonEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return self._server.url

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def violations(self) -> int:
        return self.limiter.violations

    # -- helpers for tests -------------------------------------------------------------------------

    def advance(self, seconds: float = 0.0, **units) -> None:
        """Move the emulator clock (tokens, MCF lifecycle, feeds, nextTokens) forward."""
        with self.lock:
            self.clock.advance(seconds, **units)
            self._tick()

    def now(self) -> datetime:
        return self.clock.now()

    def set_tracking_scenario(self, reference: str, scenario: str) -> None:
        if scenario not in mcf_api.SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose from {sorted(mcf_api.SCENARIOS)}")
        with self.lock:
            self.state.mcf[reference].scenario = scenario

    def exchanges_for(self, operation: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation == operation]

    def _tick(self) -> None:
        mcf_api.advance(self.state)
        feeds_api.advance_feeds(self.state, self.queue_seconds, self.process_seconds)

    # -- WSGI ----------------------------------------------------------------------------------------

    def wsgi_app(self, environ, start_response):
        arrived = time.monotonic()  # Amazon's bucket counts arrivals, before any handler work
        request = Request(environ)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        path = urlsplit(raw).path or "/"
        body = request.get_data(cache=True)
        operation = None
        if path == TOKEN_PATH:
            response = self.lwa.token(request)
        elif path == CONSENT_PATH:
            response = self.lwa.consent(request)
        elif path.startswith(DOCUMENTS):
            with self.lock:
                self._tick()
                response = feeds_api.document_http(self.state, request, unquote(path[len(DOCUMENTS):]), self._secret)
        else:
            operation, response = self._api(request, path, body, arrived)
        exchange = Exchange(operation, request.method, path, parse_qsl(urlsplit(raw).query, keep_blank_values=True),
                            dict(request.headers), body, response.status_code, dict(response.headers),
                            response.get_data())
        with self._exchange_lock:
            self.exchanges.append(exchange)
        return response(environ, start_response)

    def _match(self, method: str, path: str):
        if self.static is not None:
            found = self.static.route(method, path)
            return (found[0].key, found[0], found[1]) if found else None
        for route_method, pattern, key, handler in self.routes:
            match = pattern.match(path) if route_method == method else None
            if match:
                return key, handler, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def _api(self, request: Request, path: str, body: bytes,
             arrived: float | None = None) -> tuple[str | None, Response]:
        found = self._match(request.method, path)
        if found is None:
            return None, _answer(404, ApiError(404, "NotFound", "Resource not found.", path).body(), {})
        key, handler, path_params = found
        rate, _ = self.limiter.plan(key)
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-RateLimit-Limit": repr(float(rate))}
        host = urlsplit(self.url).netloc if self._server else request.host
        if request.headers.get("Host") != host:
            return key, _answer(400, ApiError(400, "InvalidInput", "Invalid Host header",
                                              f"expected {host}").body(), headers)
        if not request.headers.get("User-Agent"):
            return key, _answer(400, ApiError(400, "InvalidInput", "User-Agent header is required").body(), headers)
        problem = self.lwa.check(request.headers.get("x-amz-access-token"))
        if problem:
            return key, _answer(403, ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                                              problem).body(), headers)
        if not self.limiter.take(key, arrived):
            return key, _answer(429, ApiError(429, *FAULT_BODIES["429"][1:]).body(), headers)
        fault = self.faults.draw()
        if fault in FAULT_BODIES:
            status, code, message = FAULT_BODIES[fault]
            return key, _answer(status, ApiError(status, code, message).body(), headers)
        parsed = None
        if body:
            if not (request.mimetype or "").startswith("application/json"):
                return key, _answer(415, ApiError(415, "UnsupportedMediaType", "Content-Type must be "
                                                  "application/json").body(), headers)
            try:
                parsed = json.loads(body)
            except ValueError:
                return key, _answer(400, ApiError(400, "InvalidInput", "Malformed JSON body").body(), headers)
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(urlsplit(request.full_path).query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        with self.lock:
            self._tick()
            if self.static is not None:
                status, payload = self.static.answer(handler, path_params, query, parsed)
                return key, _answer(status, payload, headers)
            context = Context(path=path_params, query=query, body=parsed, now=self.clock.now(),
                              base_url=request.host_url.rstrip("/"))
            try:
                status, payload = handler(self.state, context)
            except ApiError as exc:
                status, payload = exc.status, exc.body()
        return key, _answer(status, payload, headers)


def _pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


def _answer(status: int, payload, headers: dict) -> Response:
    if payload is None:
        return Response(status=status, headers=headers)
    return Response(json.dumps(payload), status=status, mimetype="application/json", headers=headers)
