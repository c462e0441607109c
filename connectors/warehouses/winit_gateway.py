"""The WINIT gateway as every WINIT operation uses it: signed envelope, one rate-limited and
recorded POST, answer codes -> connector errors, and the Redis caches shared by an account's
workers (warehouses, delivery ways, our reference -> WINIT numbers, create attempts).

Protocol and credentials are described in :mod:`connectors.warehouses.winit`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.quick_retry import quickly_retried
from connectors.warehouses import winit_codes as codes
from connectors.warehouses import winit_mapping as wm
from connectors.warehouses.base import BaseProvider

CACHE_TTL = 3600  # warehouse list and delivery ways change rarely
REFERENCE_TTL = 400 * 24 * 3600  # our reference -> WINIT numbers
ATTEMPT_TTL = 30 * 24 * 3600  # a create was sent for this reference: a retry looks it up first
# Actions that only read: safe to repeat after a 5xx or a timeout. Anything not listed (creates,
# voids, registrations, and any action added later) is repeated only when WINIT refused it.
READS = frozenset({
    "queryDeliveryWay", "queryOutboundOrder", "queryOutboundOrderList", "queryWarehouse", "queryWarehouseStorage",
    "rma.returnGoodsOrder.queryReturnOderList", "tracking.getOrderVerdorTracking", "winit.inventory.pageInvInouts",
    "winit.wh.inbound.getOrderDetail", "winit.wh.inbound.getOrderList",
})


class WinitGateway(BaseProvider):
    name = "winit"
    default_endpoint = "https://openapi.winit.com.cn/openapi/service"  # WinitClient.java HOST
    # WINIT publishes no figure we could find (no public source: assumed): we assume 10 requests/s
    # per app_key (the emulator's default) and stay under it so jitter never pushes a burst over.
    rate_per_second = 9.0
    burst = 8.0

    def __init__(self, credentials: Mapping[str, str], *, redis, account_key: str, endpoint: str | None = None,
                 session: requests.Session | None = None, on_call=None, on_unknown=None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(credentials, redis=redis, account_key=account_key, endpoint=endpoint, session=session,
                         on_call=on_call, on_unknown=on_unknown)
        missing = [key for key in ("app_key", "token") if not self.credentials.get(key)]
        if missing:
            raise AuthError(f"WINIT credentials lack {', '.join(missing)}", field=missing, system=self.name)
        self._redis = redis
        self._account = account_key
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- transport ---------------------------------------------------------------------------

    def _envelope(self, action: str, data: Any) -> dict:
        creds = self.credentials
        fields = {"action": action, "app_key": creds["app_key"], "data": wm.canonical_data(data), "format": "json",
                  "platform": creds.get("platform") or "", "sign_method": "md5",
                  "timestamp": wm.format_time(self.clock()), "version": "1.0"}
        body = {**fields, "data": wm.strip_nulls(data or {}), "language": creds.get("language") or "zh_CN",
                "sign": wm.sign(creds["token"], fields)}
        if creds.get("client_id") and creds.get("client_secret"):
            body["client_id"] = creds["client_id"]
            body["client_sign"] = wm.sign(creds["client_secret"], fields)
        return body

    def _call(self, operation: str, action: str, data: Any = None) -> Any:
        """One gateway call (reads and refused calls retried quickly, see
        connectors/quick_retry.py); returns ``data`` of a "0" answer."""
        return quickly_retried(lambda: self._send(operation, action, data), repeatable=action in READS)

    def _send(self, operation: str, action: str, data: Any) -> Any:
        """One rate-limited, recorded gateway call."""
        self.limiter.take()
        body = self._envelope(action, data)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        excerpt = json.dumps({"action": action, "data": body["data"]}, ensure_ascii=False)  # no sign, no key
        started = time.perf_counter()
        try:
            response = self.session.post(self.endpoint, data=raw,
                                         headers={"Content-Type": "application/json;charset=UTF-8"})
        except (RetryableError, requests.RequestException) as exc:
            self._record(operation, None, started, error=type(exc).__name__, request=excerpt)
            raise RetryableError(f"WINIT {action}: {exc}", system=self.name, operation=operation) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            # A gateway 429 carries Retry-After (1 s if it does not); a 5xx is retried with backoff.
            retry_after = (_retry_after(response) or 1.0) if status == 429 else None
            self._record(operation, status, started, error=f"http {status}", request=excerpt,
                         response=response.text)
            raise RetryableError(f"WINIT {action}: HTTP {status}", retry_after=retry_after, system=self.name,
                                 operation=operation, refused=status == 429)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if status != 200 or not isinstance(payload, dict):
            self._record(operation, status, started, error="bad answer", request=excerpt, response=response.text)
            error = AuthError if status in (401, 403) else RetryableError if status == 200 else PermanentError
            raise error(f"WINIT {action}: HTTP {status}, not a WINIT envelope", system=self.name,
                        operation=operation)
        code, msg = str(payload.get("code")), str(payload.get("msg") or "")
        if code != codes.OK:
            self._record(operation, status, started, error=f"{code} {msg}", request=excerpt, response=response.text)
            raise codes.error_for(code, msg, operation=operation)
        result = payload.get("data")
        self._record(operation, status, started, request=excerpt, response=response.text,
                     external_id=_external_id(result))
        return result

    # -- caches (Redis, shared by every worker of this account) -----------------------------

    def _key(self, name: str) -> str:
        return f"nearstock:winit:{self._account}:{name}"

    def _cached(self, name: str):
        raw = self._redis.get(self._key(name))
        return None if raw is None else json.loads(raw)

    def _cache(self, name: str, value, ttl: int) -> None:
        self._redis.set(self._key(name), json.dumps(value), ex=ttl)

    def _warehouses(self, *, refresh: bool = False) -> dict[str, dict]:
        table = None if refresh else self._cached("warehouses")
        if table is None:
            rows = self._call("list_warehouses", "queryWarehouse", {}) or []
            table = {str(row["warehouseCode"]): row for row in rows if row.get("warehouseCode")}
            self._cache("warehouses", table, CACHE_TTL)
        return table

    def _warehouse(self, code: str) -> dict:
        table = self._warehouses()
        if code not in table:
            table = self._warehouses(refresh=True)
        if code not in table:
            raise PermanentError(f"WINIT has no warehouse {code!r}", field="warehouse_code",
                                 code="unknown_warehouse", system=self.name)
        return table[code]

    def _delivery_way(self, warehouse: dict, service: str | None) -> str:
        """The deliveryWayID for ``service`` (an ID, a winitProductCode or a name; None = first)."""
        name = f"delivery:{warehouse['warehouseID']}"
        ways = self._cached(name)
        if ways is None:
            ways = self._call("delivery_ways", "queryDeliveryWay", {"warehouseID": str(warehouse["warehouseID"])}) or []
            self._cache(name, ways, CACHE_TTL)
        for way in ways:
            if service is None or service in (str(way.get("deliveryID")), way.get("winitProductCode"),
                                              way.get("deliveryWay")):
                return str(way["deliveryID"])
        raise PermanentError(f"WINIT warehouse {warehouse['warehouseCode']} has no delivery way {service!r}",
                             field="shipping_service", code="unknown_service", system=self.name)

    def _remember(self, kind: str, reference: str, numbers: list[str]) -> None:
        self._redis.set(self._key(f"{kind}:{reference}"), json.dumps(numbers), ex=REFERENCE_TTL)

    def _remembered(self, kind: str, reference: str) -> list[str] | None:
        raw = self._redis.get(self._key(f"{kind}:{reference}"))
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        # Entries written before split orders were known hold one bare number.
        return json.loads(text) if text.startswith("[") else [text]

    def _forget(self, kind: str, reference: str) -> None:
        self._redis.delete(self._key(f"{kind}:{reference}"))

    def _attempted(self, kind: str, reference: str) -> bool:
        """Mark a create for ``reference`` as sent; True when an earlier attempt had already been
        (it may have reached WINIT even though we saw a timeout or an error)."""
        return not self._redis.set(self._key(f"attempt:{kind}:{reference}"), "1", nx=True, ex=ATTEMPT_TTL)


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _external_id(result) -> str | None:
    if isinstance(result, dict):
        numbers, _ = wm.created_numbers(result)
        if numbers:
            return ",".join(numbers)
        if result.get("returnGoodsOrderNo"):
            return str(result["returnGoodsOrderNo"])
    return None
