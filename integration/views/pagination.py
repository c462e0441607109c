"""Stand-in for the foundation's server pagination (replaced by main's module on merge)."""

from __future__ import annotations

import re

from flask import request

from integration.errors import APIError
from integration.extensions import db

MAX_PAGE = 10_000
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def _arg(name: str, default: int, top: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _NUMBER.fullmatch(raw) or int(raw) > top:
        raise APIError(400, f"invalid_{name}", f"{name} must be a whole number from 1 to {top}")
    return int(raw)


def page_args() -> tuple[int, int]:
    return _arg("page", 1, MAX_PAGE), _arg("limit", DEFAULT_LIMIT, MAX_LIMIT)


def paginate(stmt, page: int, limit: int) -> dict:
    rows = db.session.execute(stmt.limit(limit + 1).offset((page - 1) * limit)).all()
    return {"items": rows[:limit], "page": page, "has_next_page": len(rows) > limit, "has_previous_page": page > 1}
