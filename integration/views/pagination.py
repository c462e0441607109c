"""Server-side pagination for every admin list: ``?page=`` (1-based) and ``?limit=``.

Offset pagination, because the admin's tables page forwards and back one page at a time and a
merchant's lists stay in the tens of thousands; one extra row tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from sqlalchemy import Select

from integration.errors import APIError
from integration.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_PAGE = 10_000


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > 6 or not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise APIError(400, "invalid_parameter", f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def page_args() -> tuple[int, int]:
    """``(page, limit)`` from the query string; 400 when either is not a number in range."""
    return _bounded_int("page", 1, 1, MAX_PAGE), _bounded_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


def paginate(stmt: Select, page: int, limit: int, *, scalars: bool = True,
             to_json: Callable[[Any], Any] | None = None) -> dict:
    """One page of ``stmt`` (which must be ordered): ``{"items", "page", "has_next_page",
    "has_previous_page"}``; ``to_json`` turns each row into what the page shows."""
    result = db.session.execute(stmt.limit(limit + 1).offset((page - 1) * limit))
    rows = list(result.scalars() if scalars else result)
    items = rows[:limit]
    return {
        "items": [to_json(row) for row in items] if to_json else items,
        "page": page,
        "has_next_page": len(rows) > limit,
        "has_previous_page": page > 1,
    }
