"""A strict emulator of the Shopify Admin API (2026-07) for tests, benchmarks and the demo.

Every shop is served on one host; the shop is the ``Host`` header (``name.myshopify.com``), as if
DNS pointed all shops here. See :class:`ShopifyEmulator` for the seeding/inspection API.
"""

from __future__ import annotations

import json
import random
import time
import uuid

from flask import Flask, Response, redirect, request

from ..server import serve
from . import admin_frame, bulk, customer_returns, graphql_api
from .app_config import AppConfig
from .cost import LeakyBucket
from .customer_returns import CustomerReturnsMixin
from .oauth import OAuth, OAuthError
from .refunds import RefundsMixin
from .seeding import SHOP_RE, SeedingMixin
from .shopifyql import ShopifyqlMixin
from .state import Store, legacy_id
from .webhooks import Dispatcher, new_webhook_id, subscription_targets, triggered_at

API_VERSION = "2026-07"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                           "password)"}
DEFAULT_SCOPES = ("read_products,write_products,read_inventory,write_inventory,read_locations,"
                  "read_orders,write_orders,read_merchant_managed_fulfillment_orders,"
                  "write_merchant_managed_fulfillment_orders,write_fulfillments,read_fulfillments,"
                  "read_discounts,write_discounts,read_reports,read_returns,write_returns")


class ShopifyEmulator(SeedingMixin, RefundsMixin, ShopifyqlMixin, CustomerReturnsMixin):
    """One app (``api_key``/``api_secret``) installed on any number of shops.

    Beyond the documented arguments: ``scopes`` are granted by token exchange (and by an
    authorize call without ``scope``); ``app_config`` is the deployed app configuration
    (:class:`~sandbox.shopify.app_config.AppConfig`, read from shopify.app.toml): its webhook
    subscriptions are honoured for every shop the app is installed on (holds a token for), their
    relative addresses resolved against ``app_url``; ``refresh_token_reuse`` is ``"strict"`` (a
    used refresh token is dead at once) or ``"until_replacement_used"`` (Shopify's Aug 2026
    behaviour: the old refresh token keeps working until the new one is used). Class attributes
    ``max_body_bytes``, ``slow_seconds`` and ``bulk_delay`` may be changed per instance.
    """

    max_body_bytes = 1_000_000
    slow_seconds = 1.0
    bulk_delay = 0.2
    api_version = API_VERSION
    app_id = 4242

    def __init__(self, api_key: str, api_secret: str, *, app_url: str | None = None,
                 restore_rate: float = 100.0, bucket_size: float = 2000.0,
                 access_token_ttl: int = 86400, refresh_token_ttl: int = 7776000,
                 fault_rate: float = 0.0, fault_kinds=("429", "500", "slow"),
                 webhook_retry_base: float = 0.05, seed: int | None = None,
                 scopes: str = DEFAULT_SCOPES, app_config: AppConfig | None = None,
                 refresh_token_reuse: str = "strict") -> None:  # noqa: S107
        if refresh_token_reuse not in ("strict", "until_replacement_used"):
            raise ValueError(f"unknown refresh_token_reuse {refresh_token_reuse!r}")
        self.api_key = api_key
        self.api_secret = api_secret
        self.app_url = app_url.rstrip("/") if app_url else None
        self.restore_rate = restore_rate
        self.bucket_size = bucket_size
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        if app_config is not None and app_config.relative and not self.app_url:
            raise ValueError("the app configuration has relative webhook addresses: give app_url")
        self.app_config = app_config
        self.rng = random.Random(seed)
        self.store = Store()
        self.lock = self.store.lock
        self.buckets: dict[str, LeakyBucket] = {}
        self.shop_rates: dict[str, float] = {}
        self.calls: list[dict] = []
        self.clock_offset = 0.0
        self.oauth = OAuth(api_key, api_secret, access_ttl=access_token_ttl,
                           refresh_ttl=refresh_token_ttl, clock=self.now,
                           refresh_reuse=refresh_token_reuse)
        self.oauth.default_scopes = frozenset(s.strip() for s in scopes.split(",") if s.strip())
        self.dispatcher = Dispatcher(api_secret, retry_base=webhook_retry_base)
        self.url: str | None = None
        self._server = None
        self.wsgi_app = self._build_app()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> ShopifyEmulator:
        self._server = serve(self.wsgi_app, host, port)
        self.url = self._server.url
        return self

    def stop(self) -> None:
        self.dispatcher.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Moves the clock used for access/refresh token expiry (not JWT session tokens)."""
        self.clock_offset += seconds

    # -- faults and rates --------------------------------------------------------------------

    def set_fault_rate(self, rate: float, kinds=None) -> None:
        self.fault_rate = rate
        if kinds is not None:
            self.fault_kinds = tuple(kinds)

    def _new_bucket(self, domain: str) -> LeakyBucket:
        return LeakyBucket(self.bucket_size, self.shop_rates.get(domain, self.restore_rate))

    def set_restore_rate(self, shop: str | None, rate: float) -> None:
        with self.lock:
            if shop is None:
                self.restore_rate = rate
                self.shop_rates.clear()
                targets = list(self.buckets.values())
            else:
                self.shop_rates[shop] = rate
                targets = [self.buckets[shop]]
            for bucket in targets:
                bucket.set_rate(rate)

    def throttle_status(self, shop: str) -> dict:
        with self.lock:
            return self.buckets[shop].status()

    # -- session tokens and webhooks ---------------------------------------------------------

    def issue_session_token(self, shop: str, *, user_id=1, audience=None, expires_in=60,
                            nbf_offset=0, secret=None) -> str:
        return self.oauth.session_token(shop, user_id=user_id, audience=audience,
                                        expires_in=expires_in, nbf_offset=nbf_offset,
                                        secret=secret)

    def send_webhook(self, shop: str, topic: str, payload: dict, *, webhook_id: str | None = None,
                     duplicate: bool = False, api_version: str = API_VERSION) -> str:
        """Delivers like Shopify: to every subscription to ``topic`` (see :meth:`_targets`); a topic
        none covers (a test sending it by hand) goes to the app URL's ``/webhooks/shopify``."""
        with self.lock:
            targets = [url for url, _version in self._targets(self.shop(shop), topic)]
        if not targets and self.app_url:
            targets = [self.app_url + "/webhooks/shopify"]
        first = webhook_id or new_webhook_id()
        event_id = str(uuid.uuid4())
        stamp = triggered_at()
        for i, url in enumerate(targets):
            this_id = first if i == 0 or webhook_id else new_webhook_id()
            for _ in range(2 if duplicate else 1):
                self.dispatcher.enqueue(url=url, shop=shop, topic=topic, payload=payload,
                                        webhook_id=this_id, event_id=event_id,
                                        api_version=api_version, triggered_at=stamp)
        return first

    def send_webhooks(self, items, shuffle: bool = True) -> list[str]:
        items = list(items)
        if shuffle:
            self.rng.shuffle(items)
        return [self.send_webhook(shop, topic, payload) for shop, topic, payload in items]

    def flush_webhooks(self, timeout: float = 10) -> bool:
        return self.dispatcher.flush(timeout)

    @property
    def webhook_attempts(self) -> list[tuple[str, str, int | None, int]]:
        return list(self.dispatcher.attempts)

    @property
    def webhook_deliveries(self) -> list[dict]:
        return list(self.dispatcher.deliveries)

    def _targets(self, shop, topic: str) -> list[tuple[str, str]]:
        """``(address, API version)`` of every subscription to ``topic``: the shop's own, made
        through the API, and the app's (its configuration) once the app is installed on the shop.
        Each is a delivery of its own, as at Shopify: subscribing a topic both ways gets every
        event twice (same ``X-Shopify-Event-Id``, different webhook ids)."""
        targets = [(url, self.api_version) for url in subscription_targets(shop, topic)]
        if self.app_config is not None and shop.domain in self.oauth.installed:
            targets += [(url, self.app_config.api_version)
                        for url in self.app_config.addresses(topic, self.app_url)]
        return targets

    def _emit_events(self, shop, events) -> None:
        """Webhooks caused by mutations and seeding, to every subscription to their topic."""
        event_id = str(uuid.uuid4())
        stamp = triggered_at()
        for topic, payload in events:
            for url, version in self._targets(shop, topic):
                self.dispatcher.enqueue(url=url, shop=shop.domain, topic=topic, payload=payload,
                                        webhook_id=new_webhook_id(), event_id=event_id,
                                        api_version=version, triggered_at=stamp)

    # -- bulk operations ---------------------------------------------------------------------

    def run_bulk_operation(self, domain: str, op_id: str) -> None:
        with self.lock:
            shop = self.shop(domain)
            op = shop.nodes[op_id]
            if op["status"] == "CANCELING":
                bulk.complete(op, None, [], self.url or "")
            else:
                result, _ = graphql_api.run_bulk(self, shop, op["_scopes"], op["query"])
                bulk.complete(op, result.data, result.errors or [], self.url or "")
            self._emit_events(shop, [("bulk_operations/finish", bulk.finish_payload(op))])

    # -- HTTP --------------------------------------------------------------------------------

    def _host_shop(self) -> str | None:
        host = (request.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        return host if SHOP_RE.match(host) else None

    def _record(self, **call) -> dict:
        call.setdefault("time", time.time())
        self.calls.append(call)
        return call

    def _build_app(self) -> Flask:
        app = Flask("sandbox.shopify")

        @app.get("/")
        def index():
            return {"emulator": "shopify", "api_version": API_VERSION,
                    "shops": sorted(self.store.shops)}

        @app.get("/admin/oauth/authorize")
        def authorize():
            shop = self._host_shop() or request.args.get("shop", "").lower()
            if shop not in self.store.shops:
                return Response("Not Found", status=404)
            args = {k: v for k, v in request.args.items()}
            if request.args.getlist("grant_options[]"):
                args["grant_options[]"] = ",".join(request.args.getlist("grant_options[]"))
            try:
                with self.lock:
                    location = self.oauth.authorize(shop, args, self.app_url)
            except OAuthError as exc:
                self._record(shop=shop, kind="oauth", operation="authorize", cost=0,
                             throttled=False, status=exc.status)
                return Response(f"Oauth error {exc.body['error']}: "
                                f"{exc.body['error_description']}", status=exc.status)
            self._record(shop=shop, kind="oauth", operation="authorize", cost=0,
                         throttled=False, status=302)
            return redirect(location, code=302)

        @app.post("/admin/oauth/access_token")
        def access_token():
            shop = self._host_shop()
            if shop not in self.store.shops:
                return Response("Not Found", status=404)
            form = request.get_json(silent=True) if request.is_json else None
            form = form if isinstance(form, dict) else request.form.to_dict()
            try:
                with self.lock:
                    body = self.oauth.token(shop, {k: str(v) for k, v in form.items()})
            except OAuthError as exc:
                self._record(shop=shop, kind="oauth", operation=form.get("grant_type")
                             or "authorization_code", cost=0, throttled=False,
                             status=exc.status)
                return exc.body, exc.status
            self._record(shop=shop, kind="oauth", operation=form.get("grant_type")
                         or "authorization_code", cost=0, throttled=False, status=200)
            return body

        @app.post("/admin/api/<version>/graphql.json")
        def graphql(version):
            return self._graphql(version)

        @app.get("/bulk/<int:number>.jsonl")
        def bulk_file(number):
            with self.lock:
                for shop in self.store.shops.values():
                    for op_id in shop.bulk_operations:
                        op = shop.nodes[op_id]
                        if legacy_id(op_id) == number and op["_lines"] is not None:
                            lines = list(op["_lines"])
                            return Response((line for line in lines),
                                            mimetype="application/jsonl")
            return Response("NoSuchKey", status=404)

        self.admin = admin_frame.register(app, self)  # the store's local admin, the app framed in it
        customer_returns.register(app, self)  # a customer's self-serve return request
        return app

    def _fault(self, shop: str) -> tuple[Response | None, bool]:
        """Returns (response to send instead, whether to lose the real response).

        Kinds: ``429`` (with Retry-After), ``500`` (500/502/503 before anything runs), ``slow``
        (``slow_seconds`` late, then served), ``lost`` (executed, then answered 502: the client
        must retry safely, e.g. with the same idempotency key)."""
        if not self.fault_rate or not self.fault_kinds or self.rng.random() >= self.fault_rate:
            return None, False
        kind = self.rng.choice(self.fault_kinds)
        if kind == "slow":
            time.sleep(self.slow_seconds)
            return None, False
        if kind == "lost":
            return None, True
        if kind == "429":
            self._record(shop=shop, kind="graphql", operation=None, cost=0, throttled=False,
                         status=429, fault=kind)
            return Response(json.dumps({"errors": "Exceeded 2 calls per second for api client. "
                                        "Reduce request rates to resume uninterrupted service."}),
                            status=429, mimetype="application/json",
                            headers={"Retry-After": "2.0"}), False
        status = self.rng.choice((500, 502, 503)) if kind == "500" else int(kind)
        self._record(shop=shop, kind="graphql", operation=None, cost=0, throttled=False,
                     status=status, fault=kind)
        return Response(json.dumps({"errors": "Internal Server Error"}), status=status,
                        mimetype="application/json"), False

    def _graphql(self, version: str) -> Response | tuple:
        shop_domain = self._host_shop()
        if shop_domain not in self.store.shops:
            return {"errors": "Not Found"}, 404
        if version != API_VERSION:
            return {"errors": "Not Found"}, 404
        fault, lost = self._fault(shop_domain)
        if fault is not None:
            return fault
        with self.lock:
            grant = self.oauth.check(request.headers.get("X-Shopify-Access-Token"), shop_domain)
        if grant is None:
            self._record(shop=shop_domain, kind="graphql", operation=None, cost=0,
                         throttled=False, status=401)
            return INVALID_TOKEN, 401
        if (request.content_length or 0) > self.max_body_bytes:
            return {"errors": "Request body is too large"}, 400
        raw = request.get_data(cache=False)
        if len(raw) > self.max_body_bytes:
            return {"errors": "Request body is too large"}, 400
        if request.mimetype == "application/graphql":  # the raw document as the body
            body = {"query": raw.decode("utf-8", "replace")}
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
        if isinstance(body, dict) and isinstance(body.get("variables"), str):
            try:  # some clients send variables as a JSON string
                body["variables"] = json.loads(body["variables"] or "{}")
            except ValueError:
                body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body[
                "query"].strip() or not isinstance(body.get("variables") or {}, dict):
            self._record(shop=shop_domain, kind="graphql", operation=None, cost=0,
                         throttled=False, status=400)
            return {"errors": {"query": "Required parameter missing or invalid"}}, 400
        with self.lock:
            shop = self.shop(shop_domain)
            out, call = graphql_api.run(self, shop, grant.scopes, body, self.buckets[shop_domain])
            events = call.pop("events", [])
            self._emit_events(shop, events)
        if lost:
            call.update(status=502, fault="lost")
            self._record(shop=shop_domain, kind="graphql", **call)
            return Response(json.dumps({"errors": "Bad Gateway"}), status=502,
                            mimetype="application/json")
        self._record(shop=shop_domain, kind="graphql", **call)
        return Response(json.dumps(out), mimetype="application/json",
                        headers={"X-Request-Id": str(uuid.uuid4()),
                                 "X-Shopify-API-Version": API_VERSION})


__all__ = ["API_VERSION", "ShopifyEmulator"]
