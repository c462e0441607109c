"""ShipBob webhook subscriptions and signed deliveries with retries.

https://developer.shipbob.com/webhooks: subscriptions are created with ``POST /{version}/webhook``
(``topics``, ``url``, optional ``description`` and ``secret``; the answer carries the ``secret``).
Deliveries follow Standard Webhooks (Svix): ``webhook-id`` (same on every retry),
``webhook-timestamp`` (Unix seconds of the attempt), ``webhook-signature`` ``v1,<base64 HMAC-SHA256
of "{id}.{timestamp}.{body}" keyed with base64-decoded secret after "whsec_">``, plus
``x-webhook-topic``. A 2xx acknowledges; otherwise ShipBob retries with exponential backoff
(immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). Here the waits are multiplied by
``retry_scale`` so tests do not wait hours.

This module is independent of the connector on purpose: the test compares two implementations.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import os
import secrets
import string
import threading
import time
from urllib.parse import urlsplit

import requests

ORDER_TOPICS = ("order.shipped", "order.shipment.delivered", "order.shipment.exception",
                "order.shipment.on_hold", "order.shipment.cancelled")
RETURN_TOPICS = ("return.created", "return.updated", "return.completed")
BILLING_TOPICS = ("billing.charge.created", "billing.refund.created", "billing.credit.created")
# Create Subscription's topic enum per dated version (developer.shipbob.com/api/<version>/webhooks).
TOPICS = {
    "2025-07": ORDER_TOPICS,
    "2026-01": ORDER_TOPICS + RETURN_TOPICS + BILLING_TOPICS,
    "2026-07": (*ORDER_TOPICS, "order.delivered", "order.shipment.tracking.updated",
                "order.shipment.address.updated", "order.shipment.line_item.added",
                "order.shipment.line_item.removed", "order.shipment.line_item.updated",
                "order.shipment.shipping_service.updated", *RETURN_TOPICS, *BILLING_TOPICS),
}
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)  # after the immediate first attempt
DELIVERY_TIMEOUT = 15.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_ALPHABET = string.ascii_letters + string.digits


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def valid_secret(secret: str) -> bool:
    """Standard Webhooks secrets: ``whsec_`` + base64 of 24 to 64 bytes."""
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret[6:], validate=True)
    except ValueError:
        return False
    return 24 <= len(key) <= 64


def new_message_id() -> str:
    return "msg_" + "".join(secrets.choice(_ALPHABET) for _ in range(27))


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def url_allowed(url: str) -> bool:
    """ShipBob requires HTTPS; plain HTTP is tolerated for loopback receivers in tests."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK)


class Dispatcher:
    """A scheduler thread delivering due attempts one after another (ShipBob gives no ordering
    guarantee either; serial delivery keeps test output readable)."""

    def __init__(self, *, retry_scale: float = 0.01, timeout: float = DELIVERY_TIMEOUT) -> None:
        self.retry_scale, self.timeout = retry_scale, timeout
        self.deliveries: list[dict] = []  # every attempt: msg_id, topic, url, attempt, status, headers, body
        self.failed: list[dict] = []  # messages whose retries ran out
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._pending = 0
        self._stopped = False
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="shipbob-webhooks", daemon=True)
        self._thread.start()

    def enqueue(self, *, url: str, secret: str, topic: str, payload: dict) -> str:
        msg_id = new_message_id()
        body = json.dumps(payload, separators=(",", ":")).encode()
        job = {"msg_id": msg_id, "url": url, "secret": secret, "topic": topic, "body": body, "attempt": 0}
        with self._cond:
            self._pending += 1
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), job))
            self._cond.notify_all()
        return msg_id

    def flush(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(2)
        self._session.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            done = self._attempt(job)
            with self._cond:
                if done:
                    self._pending -= 1
                else:
                    delay = RETRY_SCHEDULE[job["attempt"] - 1] * self.retry_scale
                    heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
                self._cond.notify_all()

    def _attempt(self, job: dict) -> bool:
        """One POST; True when finished (acknowledged, or out of retries)."""
        job["attempt"] += 1
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "ShipBob-Webhooks (emulator)",
                   "webhook-id": job["msg_id"], "webhook-timestamp": stamp,
                   "webhook-signature": sign(job["secret"], job["msg_id"], stamp, job["body"]),
                   "x-webhook-topic": job["topic"]}
        try:
            status = self._session.post(job["url"], data=job["body"], headers=headers, timeout=self.timeout).status_code
        except requests.RequestException:
            status = None
        self.deliveries.append({"msg_id": job["msg_id"], "topic": job["topic"], "url": job["url"],
                                "attempt": job["attempt"], "status": status, "headers": headers, "body": job["body"]})
        if status is not None and 200 <= status < 300:
            return True
        if job["attempt"] > len(RETRY_SCHEDULE):
            self.failed.append(job)
            return True
        return False
