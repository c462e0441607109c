"""Reading a Shopify webhook body field by field: :class:`Body` and the id and code readers every
``webhook_*`` parser module is built on. Only those modules read the webhooks' field names.

Webhooks carry the REST representation (https://shopify.dev/docs/api/webhooks, topic samples):
numeric ``id`` plus ``admin_graphql_api_id``. Everything we store is a GraphQL gid, so rows match
what the GraphQL client returns; where a body has only numbers (``inventory_levels/update``,
``products/delete``, ``locations/delete``, the compliance topics) the gid is built from them.

The body is hostile input even with a valid HMAC (a bug upstream, a leaked secret): every field is
type-checked, identifiers and codes must fit their columns or the event is rejected with
:class:`PermanentError` (no retry), free text is cut to its column size. Error messages name the
field, never its value, because they are stored and may otherwise copy personal data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.errors import PermanentError

MAX_ID_DIGITS = 20  # Shopify ids are 64-bit integers
MAX_MONEY = Decimal(10) ** 12  # Numeric(14, 2)
MAX_QUANTITY = 10**7
_GID = re.compile(r"gid://shopify/([A-Za-z]+)/([0-9]{1,20})")
SYSTEM = "shopify"


def fail(path: str, problem: str) -> PermanentError:
    return PermanentError(f"webhook body: {path} {problem}", field=path, code="invalid_payload", system=SYSTEM)


def gid_of(value: Any, kind: str, path: str) -> str:
    """``gid://shopify/<kind>/N`` from a gid string or a positive integer id."""
    if isinstance(value, str) and value.startswith("gid://"):
        match = _GID.fullmatch(value)
        if match is None or match.group(1) != kind:
            raise fail(path, f"must be a {kind} gid")
        return value
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > MAX_ID_DIGITS or int(text) <= 0:
        raise fail(path, "must be a positive integer id")
    return f"gid://shopify/{kind}/{int(text)}"


def code_of(value: Any, path: str, max_len: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise fail(path, "must be a string")
    if len(value.strip()) > max_len:
        raise fail(path, f"is longer than {max_len} characters")
    return value.strip() or None


class Body:
    """One JSON object of the body, read field by field; ``path`` names it in error messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise fail(path, "must be a JSON object")
        self.obj, self.path = value, path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def child(self, key: str) -> Body | None:
        value = self.obj.get(key)
        return None if value is None else Body(value, self.at(key))

    def items(self, key: str, limit: int) -> list | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise fail(self.at(key), "must be a list")
        if len(value) > limit:
            raise fail(self.at(key), f"has more than {limit} items")
        return value

    def code(self, key: str, max_len: int) -> str | None:
        """An identifier-like string (status, currency, email): too long means a wrong body."""
        return code_of(self.obj.get(key), self.at(key), max_len)

    def required_code(self, key: str, max_len: int) -> str:
        value = self.code(key, max_len)
        if value is None:
            raise fail(self.at(key), "is missing")
        return value

    def text(self, key: str, max_len: int) -> str | None:
        """Human text (names, titles, address lines): cut to the column rather than lose it."""
        value = self.obj.get(key)
        if value is not None and not isinstance(value, str):
            raise fail(self.at(key), "must be a string")
        return (value or "").strip()[:max_len] or None

    def boolean(self, key: str, default: bool) -> bool:
        value = self.obj.get(key)
        if value is not None and not isinstance(value, bool):
            raise fail(self.at(key), "must be a boolean")
        return default if value is None else value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(self.at(key), "must be an integer")
        if not low <= value <= high:
            raise fail(self.at(key), "is out of range")
        return value

    def money(self, key: str) -> Decimal | None:
        value = self.obj.get(key)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > 32:
                raise InvalidOperation
            amount = Decimal(str(value))
        except InvalidOperation:
            raise fail(self.at(key), "must be a decimal string") from None
        if not amount.is_finite() or abs(amount) >= MAX_MONEY:
            raise fail(self.at(key), "is out of range")
        return amount.quantize(Decimal("0.01"))

    def timestamp(self, key: str) -> datetime | None:
        value = self.obj.get(key)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str) or len(value) > 40:
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise fail(self.at(key), "must be an ISO 8601 timestamp") from None
        # Shopify always sends an offset; a bare time is taken as UTC rather than local time.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

    def required_timestamp(self, key: str) -> datetime:
        value = self.timestamp(key)
        if value is None:
            raise fail(self.at(key), "is missing")
        return value

    def gid(self, kind: str, id_key: str = "id") -> str:
        """The object's gid from ``admin_graphql_api_id`` and/or its numeric id (they must agree)."""
        value = self.optional_gid(kind, id_key)
        if value is None:
            raise fail(self.at(id_key), "is missing")
        return value

    def optional_gid(self, kind: str, id_key: str = "id") -> str | None:
        number = self.obj.get(id_key)
        from_number = None if number is None else gid_of(number, kind, self.at(id_key))
        gid = self.obj.get("admin_graphql_api_id") if id_key == "id" else None
        if gid is None:
            return from_number
        gid = gid_of(gid, kind, self.at("admin_graphql_api_id"))
        if from_number is not None and from_number != gid:
            raise fail(self.at("admin_graphql_api_id"), f"does not match {id_key}")
        return gid
