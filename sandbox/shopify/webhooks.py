"""Webhook subscriptions and deliveries, with Shopify's headers, signature and retries.

https://shopify.dev/docs/apps/build/webhooks/subscribe/https : each delivery is a POST with
``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body with the app's
client secret), ``X-Shopify-Shop-Domain``, ``X-Shopify-Webhook-Id`` (the same on retries and
duplicates), ``X-Shopify-Event-Id``, ``X-Shopify-Triggered-At`` and ``X-Shopify-API-Version``.
Shopify waits 5 seconds for a 2xx and retries failures with exponential backoff (8 times over
4 hours); here the backoff clock is accelerated (``retry_base`` seconds for the first wait).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from .queries import resolver
from .state import now_iso

DELIVERY_TIMEOUT = 5.0
MAX_ATTEMPTS = 8
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def topic_enum(topic: str) -> str:
    """``inventory_levels/update`` -> ``INVENTORY_LEVELS_UPDATE``."""
    return topic.upper().replace("/", "_")


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Dispatcher:
    """Background deliveries: a scheduler thread releases due attempts to a small worker pool."""

    def __init__(self, secret: str, *, retry_base: float, max_attempts: int = MAX_ATTEMPTS,
                 timeout: float = DELIVERY_TIMEOUT) -> None:
        self.secret = secret
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.attempts: list[tuple[str, str, int | None, int]] = []
        self.deliveries: list[dict] = []  # every attempt with its headers, for inspection
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._pending = 0
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="shopify-webhook")
        self._thread = threading.Thread(target=self._run, name="shopify-webhooks", daemon=True)
        self._thread.start()

    def enqueue(self, *, url: str, shop: str, topic: str, payload: dict, webhook_id: str,
                event_id: str, api_version: str, triggered_at: str) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        job = {"url": url, "shop": shop, "topic": topic, "body": body, "attempt": 0,
               "headers": {
                   "Content-Type": "application/json",
                   "User-Agent": "Shopify-Captain-Hook",
                   "X-Shopify-Topic": topic,
                   "X-Shopify-Hmac-Sha256": sign(body, self.secret),
                   "X-Shopify-Shop-Domain": shop,
                   "X-Shopify-Webhook-Id": webhook_id,
                   "X-Shopify-Event-Id": event_id,
                   "X-Shopify-Triggered-At": triggered_at,
                   "X-Shopify-API-Version": api_version,
               }}
        with self._cond:
            self._pending += 1
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), job))
            self._cond.notify_all()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                due = self._heap[0][0] - time.monotonic()
                if due > 0:
                    self._cond.wait(timeout=due)
                    continue
                _, _, job = heapq.heappop(self._heap)
                self._pool.submit(self._attempt, job)

    def _attempt(self, job: dict) -> None:
        job["attempt"] += 1
        status = None
        try:
            response = requests.post(job["url"], data=job["body"], headers=job["headers"],
                                     timeout=self.timeout, allow_redirects=False)
            status = response.status_code
        except requests.RequestException:
            status = None
        webhook_id = job["headers"]["X-Shopify-Webhook-Id"]
        with self._cond:
            self.attempts.append((webhook_id, job["topic"], status, job["attempt"]))
            self.deliveries.append({"webhook_id": webhook_id, "topic": job["topic"],
                                    "url": job["url"], "status_code": status,
                                    "attempt": job["attempt"], "headers": dict(job["headers"]),
                                    "body": job["body"]})
            if (status is None or not 200 <= status < 300) and job["attempt"] < self.max_attempts \
                    and not self._stopped:
                wait = self.retry_base * (2 ** (job["attempt"] - 1))
                heapq.heappush(self._heap, (time.monotonic() + wait, next(self._seq), job))
            else:
                self._pending -= 1
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=min(left, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)


def triggered_at() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_webhook_id() -> str:
    return str(uuid.uuid4())


def _error(field, message):
    return {"field": field, "message": message}


def check_uri(uri: str) -> str | None:
    if uri.startswith("pubsub://") or uri.startswith("arn:aws:events:"):
        return None
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Address is invalid"
    # Shopify only delivers to HTTPS; plain HTTP is accepted here for loopback test receivers.
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        return "Address protocol http:// is not supported"
    return None


@resolver("Mutation", "webhookSubscriptionCreate")
def webhook_subscription_create(_root, info, topic, webhookSubscription):
    shop = info.context.shop
    data = webhookSubscription
    uri = data.get("uri") or data.get("callbackUrl")
    field = ["webhookSubscription", "uri" if data.get("uri") else "callbackUrl"]
    if not uri:
        return {"webhookSubscription": None,
                "userErrors": [_error(["webhookSubscription", "callbackUrl"],
                                      "Address can't be blank")]}
    problem = check_uri(uri)
    if problem:
        return {"webhookSubscription": None, "userErrors": [_error(field, problem)]}
    for existing in shop.webhook_subscriptions:
        sub = shop.nodes[existing]
        if sub["topic"] == topic and sub["uri"] == uri:
            return {"webhookSubscription": None, "userErrors": [_error(
                field, "Address for this topic has already been taken")]}
    version = info.context.emulator.api_version
    record = shop.new(
        "WebhookSubscription", topic=topic, uri=uri, format=data.get("format") or "JSON",
        filter=data.get("filter"), includeFields=data.get("includeFields") or [],
        metafieldNamespaces=data.get("metafieldNamespaces") or [], name=data.get("name"),
        apiVersion={"handle": version, "displayName": version, "supported": True})
    shop.webhook_subscriptions.append(record["id"])
    return {"webhookSubscription": record, "userErrors": []}


@resolver("Mutation", "webhookSubscriptionDelete")
def webhook_subscription_delete(_root, info, id):
    shop = info.context.shop
    if shop.get(id, "WebhookSubscription") is None:
        return {"deletedWebhookSubscriptionId": None,
                "userErrors": [_error(["id"], "Webhook subscription does not exist")]}
    shop.webhook_subscriptions.remove(id)
    shop.nodes.pop(id)
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def subscription_targets(shop, topic: str) -> list[str]:
    wanted = topic_enum(topic)
    targets = []
    for sub_id in shop.webhook_subscriptions:
        sub = shop.nodes[sub_id]
        if sub["topic"] == wanted and sub["uri"].startswith(("http://", "https://")):
            targets.append(sub["uri"])
    return targets


def describe(shop) -> list[dict]:
    return [{"id": s["id"], "topic": s["topic"], "uri": s["uri"], "format": s["format"],
             "created_at": s["createdAt"]}
            for s in (shop.nodes[i] for i in shop.webhook_subscriptions)]


__all__ = ["Dispatcher", "describe", "now_iso", "sign", "subscription_targets", "topic_enum"]
