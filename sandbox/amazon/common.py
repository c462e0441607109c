"""What every part of the Amazon emulator shares: the clock, errors, request context, usage plans."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

# marketplace id -> (country, currency, marketplace name, region)
MARKETPLACES = {
    "ATVPDKIKX0DER": ("US", "USD", "Amazon.com", "NA"), "A2EUQ1WTGCTBG2": ("CA", "CAD", "Amazon.ca", "NA"),
    "A1AM78C64UM0Y8": ("MX", "MXN", "Amazon.com.mx", "NA"), "A2Q3Y263D00KWC": ("BR", "BRL", "Amazon.com.br", "NA"),
    "A1F83G8C2ARO7P": ("GB", "GBP", "Amazon.co.uk", "EU"), "A1PA6795UKMFR9": ("DE", "EUR", "Amazon.de", "EU"),
    "A13V1IB3VIYZZH": ("FR", "EUR", "Amazon.fr", "EU"), "APJ6JRA9NG5V4": ("IT", "EUR", "Amazon.it", "EU"),
    "A1RKKUPIHCS9HS": ("ES", "EUR", "Amazon.es", "EU"), "A1805IZSGTT6HS": ("NL", "EUR", "Amazon.nl", "EU"),
    "A2NODRKZP88ZB9": ("SE", "SEK", "Amazon.se", "EU"), "A1C3SOZRARQ6R3": ("PL", "PLN", "Amazon.pl", "EU"),
    "AMEN7PMS3EDWL": ("BE", "EUR", "Amazon.com.be", "EU"), "A33AVAJ2PDY3EV": ("TR", "TRY", "Amazon.com.tr", "EU"),
    "A1VC38T7YXB528": ("JP", "JPY", "Amazon.co.jp", "FE"), "A39IBJ37TRP1C6": ("AU", "AUD", "Amazon.com.au", "FE"),
    "A19VAU5U5O7RUS": ("SG", "SGD", "Amazon.sg", "FE"),
}

# Default usage plans (rate per second, burst) from the models' "Usage Plan" tables.
USAGE_PLANS = {
    "orders.searchOrders": (0.0056, 20), "orders.getOrder": (0.5, 30),
    "ordersV0.confirmShipment": (2, 10),
    "listings.patchListingsItem": (5, 5),
    "feeds.createFeedDocument": (0.5, 15), "feeds.createFeed": (0.0083, 15), "feeds.getFeed": (2, 15),
    "feeds.getFeedDocument": (0.0222, 10),
    "fbaInventory.getInventorySummaries": (2, 2),
    "fbaOutbound.createFulfillmentOrder": (2, 30), "fbaOutbound.getFulfillmentOrder": (2, 30),
    "fbaOutbound.cancelFulfillmentOrder": (2, 30), "fbaOutbound.getPackageTrackingDetails": (2, 30),
}

# Amazon CarrierCode values the emulator accepts in confirmShipment (plus "Other" with carrierName).
CARRIER_CODES = frozenset({
    "Amazon Shipping", "UPS", "USPS", "FedEx", "OnTrac", "DHL", "DHL eCommerce", "Deutsche Post", "DPD", "GLS",
    "Hermes", "Evri", "Royal Mail", "Parcelforce", "La Poste", "Colissimo", "Chronopost", "Correos", "SEUR",
    "PostNL", "Poste Italiane", "BRT", "TNT", "Canada Post", "Australia Post", "Japan Post", "Yamato Transport",
    "Sagawa Express", "China Post", "SF Express", "YunExpress", "4PX",
})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ApiError(400, "InvalidInput", f"Invalid {name}", f"{name} must be an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ApiError(400, "InvalidInput", f"Invalid {name}", f"{name} must carry a time zone")
    return moment.astimezone(UTC)


class ApiError(Exception):
    """An SP-API error answer: ``{"errors": [{"code", "message", "details"}]}``."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def invalid(message: str, details: str = "") -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


class Clock:
    """Wall time plus an offset tests move forward (token expiry, MCF lifecycle, feeds, nextTokens)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> None:
        self.offset += seconds + minutes * 60 + hours * 3600 + days * 86400


class Context:
    """One API request: path parameters, query (strict: declared names only, lists as CSV), body."""

    def __init__(self, *, path: dict[str, str], query: dict[str, list[str]], body: Any, now: datetime,
                 base_url: str) -> None:
        self.path, self.query, self.body, self.now, self.base_url = path, query, body, now, base_url

    def allow(self, *names: str) -> None:
        unknown = sorted(set(self.query) - set(names))
        if unknown:
            raise invalid(f"Unknown parameter: {unknown[0]}", "This operation does not accept it.")
        repeated = [k for k, v in self.query.items() if len(v) > 1]
        if repeated:
            raise invalid(f"Parameter {repeated[0]} repeated", "List parameters are comma-separated values.")

    def one(self, name: str, *, required: bool = False) -> str | None:
        values = self.query.get(name)
        if not values or values[0] == "":
            if required:
                raise invalid(f"Missing required parameter: {name}")
            return None
        return values[0]

    def many(self, name: str, *, required: bool = False, enum=None, max_items: int | None = None) -> list[str]:
        raw = self.one(name, required=required)
        values = [v for v in raw.split(",") if v] if raw else []
        if enum is not None:
            bad = [v for v in values if v not in enum]
            if bad:
                raise invalid(f"Invalid value for {name}: {bad[0]}")
        if max_items is not None and len(values) > max_items:
            raise invalid(f"{name} accepts at most {max_items} values")
        return values

    def integer(self, name: str, *, low: int, high: int, default: int | None = None) -> int | None:
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"{name} must be an integer") from None
        if not low <= value <= high:
            raise invalid(f"{name} must be between {low} and {high}")
        return value

    def time(self, name: str) -> datetime | None:
        raw = self.one(name)
        return parse_time(raw, name) if raw is not None else None

    def json_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise invalid("Request body must be a JSON object")
        return self.body


class Limiter:
    """Amazon's token buckets, one per operation of this (seller, application) pair.

    ``scale`` multiplies every rate (a seller with a raised usage plan); the applied rate is what
    ``x-amzn-RateLimit-Limit`` announces. A request finding no token is throttled and counted in
    ``violations`` (arrivals above the rate); injected 429 faults are not violations.

    Amazon counts a request when it *arrives*: :meth:`take` gets ``arrived`` (``time.monotonic()``
    stamped as the request reached the emulator, before any handler work), so time spent waiting
    for the GIL or a CPU inside the emulator is not counted against the client.
    """

    def __init__(self, plans: dict[str, tuple[float, float]], *, scale: float = 1.0) -> None:
        self.plans = dict(plans)
        self.scale = scale
        self.violations = 0
        self.violations_by_operation: Counter[str] = Counter()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def plan(self, operation: str) -> tuple[float, float]:
        rate, burst = self.plans.get(operation, (1.0, 5.0))
        return rate * self.scale, burst

    def take(self, operation: str, arrived: float | None = None) -> bool:
        rate, burst = self.plan(operation)
        with self._lock:
            # Times never run backwards: requests can reach the lock in another order than they
            # arrived (GIL, a loaded machine). A time older than the stamp another request left
            # would refill negatively and take away tokens the ``min(burst, ..)`` cap never granted
            # (an in-rate request throttled: a false violation), so such a request is judged at that
            # stamp -- never earlier than it arrived, never later than it reached the lock.
            now = time.monotonic() if arrived is None else arrived
            tokens, stamp = self._buckets.get(operation, (burst, now))
            now = max(now, stamp)
            tokens = min(burst, tokens + (now - stamp) * rate)
            if tokens >= 1.0:
                self._buckets[operation] = (tokens - 1.0, now)
                return True
            self._buckets[operation] = (tokens, now)
            self.violations += 1
            self.violations_by_operation[operation] += 1
            return False

    def exhaust(self, operation: str) -> None:
        """Empty one bucket (tests: make the next request throttled)."""
        with self._lock:
            self._buckets[operation] = (0.0, time.monotonic())
