"""Order routing: which warehouse ships which units. Pure: data in, a plan out.

The rules, in order (what a merchant selling abroad from local hubs expects):

1. A warehouse may serve a line only if it is active and no merchant rule excludes it for the
   line's SKU or the destination country.
2. One shipment beats several: if one warehouse can ship the whole order, it does — the local one
   (same country as the buyer) first, then the merchant's priority, then the same region, then
   the fastest transit to the destination.
3. Otherwise, when the shop allows split shipments, the fewest shipments: repeatedly take the
   warehouse that can ship the most remaining lines in full (ties broken as above); a line no
   single warehouse can ship in full is then split across warehouses, best first.
4. When the shop does not split, the best warehouse ships what it can in full and the other lines
   wait as backordered. Whatever is still short in either case is backordered.

Each allocation carries a human-readable reason and a reason code (:class:`RouteReason`), both
shown to the merchant; the code is what the admin filters on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

UNKNOWN_TRANSIT = 99


class RouteReason:
    """Why units went where they went, as the merchant asks it ("why from there?")."""

    LOCAL = "local"  # the warehouse is in the buyer's country
    ONLY_STOCK = "only_stock"  # abroad, and no other warehouse could have shipped these units
    ABROAD = "abroad"  # abroad, the best of several by the merchant's priority, region and transit
    SPLIT = "split"  # the order ships from several warehouses
    BACKORDERED = "backordered"  # no warehouse could take these units
    REPLACEMENT = "replacement"  # sent again from the local warehouse (an exchange, a reship)

    ALL = (LOCAL, ONLY_STOCK, ABROAD, SPLIT, BACKORDERED, REPLACEMENT)


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    country_code: str
    region: str | None = None
    priority: int = 100
    transit_days: Mapping[str, Sequence[int]] = field(default_factory=dict)
    active: bool = True
    excluded_skus: frozenset[str] = frozenset()  # never ship these from here
    excluded_countries: frozenset[str] = frozenset()  # never ship anything there from here
    excluded_pairs: frozenset[tuple[str, str]] = frozenset()  # (sku, country)

    def transit_to(self, country: str) -> tuple[int, int]:
        days = self.transit_days.get(country) or self.transit_days.get("*")
        return (int(days[0]), int(days[1])) if days else (UNKNOWN_TRANSIT, UNKNOWN_TRANSIT)

    def allows(self, sku: str, country: str) -> bool:
        return (
            self.active
            and sku not in self.excluded_skus
            and country not in self.excluded_countries
            and (sku, country) not in self.excluded_pairs
        )


@dataclass(frozen=True)
class LineRequest:
    line_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class Assignment:
    line_id: int
    sku: str
    quantity: int
    warehouse_id: int | None  # None: backordered
    reason: str
    code: str = ""  # a RouteReason; route() always sets it


@dataclass(frozen=True)
class RoutingPlan:
    assignments: tuple[Assignment, ...]

    @property
    def backordered(self) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.warehouse_id is None)

    @property
    def warehouses(self) -> set[int]:
        return {a.warehouse_id for a in self.assignments if a.warehouse_id is not None}


def rank_key(candidate: Candidate, country: str, region: str | None):
    """Smaller is better: local, merchant priority, same region, fastest transit, stable id."""
    local = candidate.country_code == country
    same_region = region is not None and candidate.region == region
    fastest, slowest = candidate.transit_to(country)
    return (not local, candidate.priority, not same_region, slowest, fastest, candidate.id)


def route(
    lines: Sequence[LineRequest],
    country: str,
    candidates: Sequence[Candidate],
    available: Mapping[tuple[int, str], int],
    *,
    split: bool = True,
    region: str | None = None,
) -> RoutingPlan:
    """Plan the order. ``available`` maps (warehouse id, sku) to units that may be reserved."""
    country = (country or "").upper()
    ranked = sorted(candidates, key=lambda c: rank_key(c, country, region))
    stock = {key: max(0, qty) for key, qty in available.items()}
    wanted = [ln for ln in lines if ln.quantity > 0]

    def can_ship(c: Candidate, ln: LineRequest) -> bool:
        return c.allows(ln.sku, country) and stock.get((c.id, ln.sku), 0) >= ln.quantity

    # Rule 2: one warehouse for everything.
    for c in ranked:
        if wanted and all(can_ship(c, ln) for ln in wanted):
            why = _why(c, country, "ships the whole order")
            plan = [Assignment(ln.line_id, ln.sku, ln.quantity, c.id, why) for ln in wanted]
            return RoutingPlan(_with_codes(plan, country, ranked, stock))

    before = dict(stock)  # what each warehouse could have shipped, for the reason codes
    # Rule 3: fewest shipments, greedily.
    out: list[Assignment] = []
    remaining = list(wanted)
    while remaining:
        best, covered = None, []
        for c in ranked:
            lines_here = [ln for ln in remaining if can_ship(c, ln)]
            if len(lines_here) > len(covered):
                best, covered = c, lines_here
        if best is None:
            break
        for ln in covered:
            stock[(best.id, ln.sku)] -= ln.quantity
            out.append(Assignment(ln.line_id, ln.sku, ln.quantity, best.id,
                                  _why(best, country, f"ships {len(covered)} of the order's lines in full")))
        remaining = [ln for ln in remaining if ln not in covered]
        if not split:
            break  # one shipment only: what it cannot carry waits as backordered

    # Rule 4: split what no single warehouse can take, then backorder the rest.
    for ln in remaining:
        short = ln.quantity
        if split:
            for c in ranked:
                if short == 0:
                    break
                if not c.allows(ln.sku, country):
                    continue
                take = min(short, stock.get((c.id, ln.sku), 0))
                if take > 0:
                    stock[(c.id, ln.sku)] -= take
                    short -= take
                    out.append(Assignment(ln.line_id, ln.sku, take, c.id,
                                          _why(c, country, f"ships {take} of {ln.quantity} (line split)")))
        if short > 0:
            reason = ("no warehouse has enough stock" if split
                      else "no single warehouse has enough stock and the shop does not split orders")
            out.append(Assignment(ln.line_id, ln.sku, short, None, f"backordered: {reason}"))
    return RoutingPlan(_with_codes(out, country, ranked, before))


def _with_codes(plan: list[Assignment], country: str, ranked: Sequence[Candidate],
                stock: Mapping[tuple[int, str], int]) -> tuple[Assignment, ...]:
    """The reason code of each assignment. Several warehouses: split. One warehouse: local when it
    is in the buyer's country, else "only stock" when no other warehouse allowed to serve the
    destination held all of its units (``stock`` as it was before routing), else "abroad"."""
    shipped = [a for a in plan if a.warehouse_id is not None]
    used = {a.warehouse_id for a in shipped}
    code = RouteReason.SPLIT
    if len(used) == 1:
        [chosen] = [c for c in ranked if c.id in used]
        wanted: dict[str, int] = {}
        for a in shipped:
            wanted[a.sku] = wanted.get(a.sku, 0) + a.quantity
        others = [c for c in ranked if c.id != chosen.id and all(
            c.allows(sku, country) and stock.get((c.id, sku), 0) >= qty for sku, qty in wanted.items())]
        code = (RouteReason.LOCAL if chosen.country_code == country
                else RouteReason.ABROAD if others else RouteReason.ONLY_STOCK)
    return tuple(replace(a, code=code if a.warehouse_id is not None else RouteReason.BACKORDERED) for a in plan)


def _why(c: Candidate, country: str, what: str) -> str:
    where = "local warehouse" if c.country_code == country else f"warehouse in {c.country_code}"
    low, high = c.transit_to(country)
    transit = f", {low}-{high} days to {country}" if high != UNKNOWN_TRANSIT else ""
    return f"{c.name} ({where}{transit}) {what}"
