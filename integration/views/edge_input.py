"""What every request's parameters must be before a view sees them, checked in one place.

* ``<id:…>`` in a route: a database id, 1 to :data:`~integration.models.base.MAX_ID`. Any other
  number does not match the route, so every route answers 404 alike, before authentication or a
  query (a 26-digit id used to overflow the database driver: 500).
* Text: no NUL in the path, the query or a posted form: 400. PostgreSQL refuses NUL in text where
  SQLite stores it; refused here, both databases see the same requests.

JSON bodies have their own rules (:mod:`connectors.untrusted_input`, applied by
:func:`integration.views.request_body.read_json_object`). The two WSGI fronts that answer before
Flask (Shopify webhooks, storefront stock hits) read only headers and parameters they validate.
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BaseConverter

from integration.errors import APIError
from integration.models.base import MAX_ID

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _up_to(limit: int) -> str:
    """A regex for the numbers 1 to ``limit`` without leading zeros: the shorter ones, then for
    each digit of ``limit`` its prefix and a smaller digit, then ``limit`` itself."""
    digits = str(limit)
    same_length = [f"{digits[:i]}[{1 if i == 0 else 0}-{int(d) - 1}][0-9]{{{len(digits) - i - 1}}}"
                   for i, d in enumerate(digits) if int(d) > (1 if i == 0 else 0)]
    return "(?:" + "|".join([f"[1-9][0-9]{{0,{len(digits) - 2}}}", *same_length, digits]) + ")"


# Out-of-range ids must fail the URL's regex, not the converter: Werkzeug answers a converter's
# refusal with 405 when the path has a rule for another method, and 404 otherwise.
ID_PATTERN = _up_to(MAX_ID)
_ID = re.compile(ID_PATTERN)


def database_id(value: str) -> int:
    """``value`` as a database id, or ValueError (also usable as ``request.args.get(type=…)``)."""
    if not _ID.fullmatch(value):
        raise ValueError("not a database id")
    return int(value)


class DatabaseIdConverter(BaseConverter):
    """``<id:name>``: a database id; the route does not match any other value."""

    regex = ID_PATTERN
    weight = 50  # as Werkzeug's int converter: ranked like the routes it replaces

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def _holds_nul(values: MultiDict) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def refuse_nul_text() -> None:
    if "\x00" in request.path or _holds_nul(request.args) or (
            request.mimetype in FORM_TYPES and _holds_nul(request.form)):
        raise APIError(400, "invalid_text", "the request holds a NUL character")


def init_app(app: Flask) -> None:
    """Before any blueprint: routes are compiled against the converters known when registered."""
    app.url_map.converters["id"] = DatabaseIdConverter
    app.before_request(refuse_nul_text)
