"""What a shopper in one market (country) is told about a variant's stock: pure rules.

The status of a SKU for a market follows the warehouse routing would pick for a one-unit order
(:func:`integration.domain.routing.rank_key`: local first, then the merchant's priority, then the
fastest transit), so "In stock in Germany" is only promised when the order would really ship from
the German warehouse:

* ``in_stock_local``: the routed warehouse is in the shopper's country; the delivery estimate is
  its handling time (whole days, rounded up) plus its transit days to that country.
* ``ships_from_abroad``: the routed warehouse is elsewhere; same estimate, usually longer.
* ``low_stock``: either of the above with at most ``low_stock_threshold`` units that can ship to
  the market ("Only 3 left"); the count is only ever disclosed in this state.
* ``preorder``: nothing on hand for the market, but inbound stock with an arrival date at a
  warehouse that ships there, and the shop allows pre-orders: "Pre-order, arrives 12 Dec".
* ``out_of_stock``: none of the above; shoppers can sign up for a back-in-stock e-mail.

Delivery estimates are in business days (Monday to Friday), as warehouses quote transit times.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from integration.domain.routing import UNKNOWN_TRANSIT, Candidate, rank_key

ANY_MARKET = "*"  # every country without a status of its own


class StatusCode(StrEnum):
    IN_STOCK_LOCAL = "in_stock_local"
    SHIPS_FROM_ABROAD = "ships_from_abroad"
    LOW_STOCK = "low_stock"
    PREORDER = "preorder"
    OUT_OF_STOCK = "out_of_stock"


PURCHASABLE = frozenset({StatusCode.IN_STOCK_LOCAL, StatusCode.SHIPS_FROM_ABROAD, StatusCode.LOW_STOCK})


@dataclass(frozen=True)
class WarehouseStock:
    """One warehouse's stock of one SKU, as the storefront may sell it."""

    warehouse: Candidate
    available: int  # sellable now: on hand - reserved - safety stock - channel buffer
    handling_hours: int = 24
    inbound: int = 0
    inbound_eta: date | None = None


@dataclass(frozen=True)
class Policy:
    low_stock_threshold: int = 5
    allow_preorder: bool = False


@dataclass(frozen=True)
class StockStatus:
    code: StatusCode
    local: bool = False  # ships from a warehouse in the shopper's country
    ship_from: str | None = None  # country of that warehouse
    quantity: int | None = None  # units that can ship to the market; only set for low stock
    eta_days: tuple[int, int] | None = None  # business days from order to delivery
    arrives_on: date | None = None  # pre-orders: the latest expected delivery date

    @property
    def purchasable(self) -> bool:
        return self.code in PURCHASABLE

    @property
    def subscribable(self) -> bool:
        return self.code is StatusCode.OUT_OF_STOCK

    def as_dict(self) -> dict:
        return {
            "code": self.code.value,
            "local": self.local,
            "ship_from": self.ship_from,
            "quantity": self.quantity,
            "eta_days": list(self.eta_days) if self.eta_days else None,
            "arrives_on": self.arrives_on.isoformat() if self.arrives_on else None,
            "subscribe": self.subscribable,
        }


def handling_days(hours: int) -> int:
    return max(0, math.ceil((hours or 0) / 24))


def add_business_days(start: date, days: int) -> date:
    current = start
    remaining = max(0, days)
    while remaining:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def eta_for(stock: WarehouseStock, market: str) -> tuple[int, int] | None:
    low, high = stock.warehouse.transit_to(market)
    if high >= UNKNOWN_TRANSIT:
        return None  # the merchant never said how long it takes: promise nothing
    base = handling_days(stock.handling_hours)
    return base + low, base + high


def _ships_to(stock: WarehouseStock, sku: str, market: str) -> bool:
    # The "any other country" status must not rely on a warehouse excluded from some country;
    # such a country gets its own status (see markets_for).
    return stock.warehouse.allows(sku, market)


def status_for(sku: str, market: str, stocks: Sequence[WarehouseStock], policy: Policy, today: date) -> StockStatus:
    """The status of ``sku`` for shoppers in ``market`` (an ISO country code or ``*``)."""
    shipping = [s for s in stocks if _ships_to(s, sku, market)]
    in_stock = [s for s in shipping if s.available > 0]
    if in_stock:
        best = min(in_stock, key=lambda s: rank_key(s.warehouse, market, None))
        total = sum(s.available for s in in_stock)
        local = best.warehouse.country_code == market
        low = 0 < total <= policy.low_stock_threshold
        code = StatusCode.LOW_STOCK if low else (
            StatusCode.IN_STOCK_LOCAL if local else StatusCode.SHIPS_FROM_ABROAD)
        return StockStatus(code, local=local, ship_from=best.warehouse.country_code,
                           quantity=total if low else None, eta_days=eta_for(best, market))
    if policy.allow_preorder:
        arrivals = []
        for s in shipping:
            if s.inbound > 0 and s.inbound_eta is not None:
                eta = eta_for(s, market)
                if eta is None:
                    continue
                start = max(s.inbound_eta, today)
                arrivals.append((add_business_days(start, eta[1]), s))
        if arrivals:
            arrives_on, s = min(arrivals, key=lambda a: (a[0], rank_key(a[1].warehouse, market, None)))
            return StockStatus(StatusCode.PREORDER, local=s.warehouse.country_code == market,
                               ship_from=s.warehouse.country_code, arrives_on=arrives_on)
    return StockStatus(StatusCode.OUT_OF_STOCK)


def markets_for(stocks: Iterable[WarehouseStock], extra: Iterable[str] = ()) -> list[str]:
    """The countries whose status can differ from the rest of the world: those of the warehouses,
    those with their own transit times or exclusions, and any the shop asks for; then ``*``."""
    found: set[str] = set()
    for s in stocks:
        w = s.warehouse
        found.add(w.country_code)
        found.update(k for k in w.transit_days if k != ANY_MARKET)
        found.update(w.excluded_countries)
        found.update(country for _sku, country in w.excluded_pairs)
    found.update(extra)
    return [*sorted(c.upper() for c in found if c and c != ANY_MARKET and len(c) == 2), ANY_MARKET]


@dataclass(frozen=True)
class SkuStatus:
    """A SKU's statuses for every market that differs from ``*`` (the fallback), and the units it
    has for sale anywhere (what restock notifications are budgeted from)."""

    sku: str
    markets: Mapping[str, StockStatus] = field(default_factory=dict)
    available: int = 0

    def for_market(self, market: str) -> StockStatus:
        return self.markets.get(market.upper()) or self.markets[ANY_MARKET]


def statuses_for(sku: str, stocks: Sequence[WarehouseStock], policy: Policy, today: date,
                 extra_markets: Iterable[str] = ()) -> SkuStatus:
    markets = markets_for(stocks, extra_markets)
    fallback = status_for(sku, ANY_MARKET, stocks, policy, today)
    out: dict[str, StockStatus] = {}
    for market in markets[:-1]:
        status = status_for(sku, market, stocks, policy, today)
        if status != fallback:  # same as the rest of the world: the fallback answers for it
            out[market] = status
    out[ANY_MARKET] = fallback
    available = sum(s.available for s in stocks if s.available > 0 and s.warehouse.active)
    return SkuStatus(sku, out, available)


def restock_budget(previous_available: int, available: int, factor: float) -> int:
    """How many waiting subscribers to tell after stock went from ``previous_available`` to
    ``available`` units: in proportion to the units that came in (a restock of 3 units does not
    send 500 e-mails), never negative."""
    added = available - max(0, previous_available)
    if available <= 0 or added <= 0:
        return 0
    return max(1, math.ceil(added * max(0.0, factor)))
