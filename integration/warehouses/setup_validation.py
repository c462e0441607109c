"""What the embedded admin's setup API (warehouse accounts, warehouses, routing rules, shop
settings) shares: the :class:`SetupError` family, each carrying an HTTP status, a machine code and
the offending field, the checks every body field goes through, and :func:`in_shop`. Every setup
function takes the shop id from the caller (the session token's shop) and looks every other id up
*within* that shop, so another shop's id is simply "not found".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select

from integration.extensions import db
from integration.warehouses.countries import COUNTRIES

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and newlines allowed (PEM keys)


class SetupError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.field, self.retry_after = message, field, retry_after
        self.code = code or self.code
        self.status = status or self.status


class NotFoundError(SetupError):
    status, code = 404, "not_found"


class InvalidError(SetupError):
    status, code = 422, "invalid"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}", field=field, code=code)


class ConflictError(SetupError):
    status, code = 409, "conflict"


class ProviderError(SetupError):
    status, code = 502, "provider_unavailable"


def in_shop(model, shop_id: int, row_id: int, what: str):
    """The ``model`` row ``row_id`` if it belongs to the shop; otherwise "no such <what>"."""
    found = db.session.execute(select(model).where(
        model.id == row_id, model.shop_id == shop_id)).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no such {what}")
    return found


# -- field validation ----------------------------------------------------------------------------

def only_fields(data: Mapping, allowed: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise SetupError("the body must be a JSON object", code="invalid_body")
    for key in data:
        if key not in allowed:
            raise InvalidError(str(key)[:64], f"unknown field; expected one of {', '.join(allowed)}")


def integer(value, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidError(field, "must be an integer")
    if not lo <= value <= hi:
        raise InvalidError(field, f"must be between {lo} and {hi}")
    return value


def boolean(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidError(field, "must be true or false")
    return value


def short_text(value, field: str, max_len: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidError(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidError(field, "must not be empty")
    if len(value) > max_len or _CONTROL.search(value):
        raise InvalidError(field, f"must be at most {max_len} printable characters")
    return value or None


def country(value, field: str = "country_code", *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or value.strip().upper() not in COUNTRIES:
        raise InvalidError(field, "must be an ISO 3166-1 alpha-2 country code such as DE or US")
    return value.strip().upper()
