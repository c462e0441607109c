"""A warehouse's transit times: business days [min, max] per destination country, "*" for any
other. Stored as ``{"DE": [1, 3], "*": [5, 10]}`` (what routing and the storefront's promises
read). The admin sends rows, ``[{"country": "DE", "min_days": 1, "max_days": 3}, ...]``; the older
object form is still accepted, and stored data of either age reads back as both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integration.warehouses.countries import COUNTRIES
from integration.warehouses.setup_validation import InvalidError

ANY = "*"
MAX_DAYS = 60
MAX_ENTRIES = 250


def parse(value, field: str = "transit_days") -> dict[str, list[int]]:
    """Rows or the object form -> the stored form. Errors name the row's field
    (``transit_days[2].max_days``) or the object's key (``transit_days.DE``)."""
    if isinstance(value, Mapping):
        return _parse_object(value, field)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return _parse_rows(value, field)
    raise InvalidError(field, 'must be a list of {"country", "min_days", "max_days"} rows')


def _parse_rows(rows: Sequence, field: str) -> dict[str, list[int]]:
    if len(rows) > MAX_ENTRIES:
        raise InvalidError(field, f"at most {MAX_ENTRIES} countries")
    out: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        where = f"{field}[{i}]"
        if not isinstance(row, Mapping):
            raise InvalidError(where, 'must be an object {"country", "min_days", "max_days"}')
        unknown = set(row) - {"country", "min_days", "max_days"}
        if unknown:
            raise InvalidError(f"{where}.{str(sorted(unknown)[0])[:32]}", "unknown field; expected country, "
                                                                          "min_days, max_days")
        dest = _destination(row.get("country"), f"{where}.country")
        if dest in out:
            raise InvalidError(f"{where}.country", f"{dest} is listed twice", code="duplicate_country")
        low = _days(row.get("min_days"), f"{where}.min_days", "minimum")
        high = _days(row.get("max_days"), f"{where}.max_days", "maximum")
        if low > high:
            raise InvalidError(f"{where}.max_days", "must not be less than the minimum")
        out[dest] = [low, high]
    return out


def _parse_object(value: Mapping, field: str) -> dict[str, list[int]]:
    if len(value) > MAX_ENTRIES:
        raise InvalidError(field, f"at most {MAX_ENTRIES} countries")
    out: dict[str, list[int]] = {}
    for key, days in value.items():
        dest = _destination(key, f"{field}.{str(key)[:8]}")
        where = f"{field}.{dest}"
        if dest in out:
            raise InvalidError(where, f"{dest} is listed twice", code="duplicate_country")
        if not isinstance(days, list | tuple) or len(days) != 2:
            raise InvalidError(where, "must be [min, max] business days")
        low, high = (_days(d, where, "each") for d in days)
        if low > high:
            raise InvalidError(where, "min must not exceed max")
        out[dest] = [low, high]
    return out


def _destination(value, where: str) -> str:
    if value == ANY:
        return ANY
    if not isinstance(value, str) or value.strip().upper() not in COUNTRIES:
        raise InvalidError(where, 'must be an ISO 3166-1 alpha-2 country code such as DE, or "*" for any other')
    return value.strip().upper()


def _days(value, where: str, which: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidError(where, f"the {which} must be a whole number of business days")
    if not 0 <= value <= MAX_DAYS:
        raise InvalidError(where, f"the {which} must be between 0 and {MAX_DAYS} business days")
    return value


def rows(stored: Mapping | None) -> list[dict]:
    """The stored form as rows, countries in code order and "*" last; entries an older version
    stored in another shape are skipped rather than failing the page."""
    out = []
    for dest, days in (stored or {}).items():
        if isinstance(days, list | tuple) and len(days) == 2 and all(isinstance(d, int) for d in days):
            out.append({"country": dest, "min_days": days[0], "max_days": days[1]})
    return sorted(out, key=lambda r: (r["country"] == ANY, r["country"]))
