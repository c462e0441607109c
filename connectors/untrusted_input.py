"""What a stranger sends us, parsed without trusting its size: JSON documents and Unix timestamps.

Each parser refuses what would otherwise fail deep inside, and the same way on every database:

* JSON: nested deeper than :data:`MAX_DEPTH` (the parser recurses, and a worker that hits
  ``RecursionError`` would retry the event forever), an integer outside 64 bits (what a BIGINT
  holds; beyond it the database driver overflows), a float that is not finite, text that is not
  UTF-8, and strings holding NUL or a lone UTF-16 surrogate (PostgreSQL refuses NUL in text where
  SQLite keeps it, and no driver can encode a lone surrogate).
* Timestamps: ASCII digits only and at most 12 of them; a 400-digit one made ``time.time() - int(…)``
  raise ``OverflowError``.
"""

from __future__ import annotations

import json
import math
import re
import time
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64  # Shopify's and ShipBob's documents nest about ten levels
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # up to the year 33658

_ESCAPE = re.compile(rb"\\.", re.S)
# A JSON string once escapes are gone. An unterminated one runs to the end instead of failing, so
# no start position is scanned twice (a failed match would be retried from every later quote).
_STRING = re.compile(rb'"[^"]*+(?:"|\Z)')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
# Openings as +1 and closings as -1 once the bytes are read as signed chars.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
# The only ways a NUL or a surrogate reaches parsed text (a raw NUL is invalid JSON, and strict
# UTF-8 holds no surrogate): documents without these escapes need no walk.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
# Digits as 9 and exponent marks as e, to find the shapes of numbers that may be out of range.
_NUMBER_SHAPES = bytes.maketrans(b"0123456789E", b"9999999999e")


class UntrustedJSONError(ValueError):
    """The document is refused; the message says why (for a 400 or an event's error)."""


def parse_json_document(raw: bytes) -> Any:
    """The JSON value of ``raw``, or :class:`UntrustedJSONError` saying which rule it breaks."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UntrustedJSONError("the body is not UTF-8 text") from None
    if _depth(raw) > MAX_DEPTH:
        raise UntrustedJSONError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    hooks = ({"parse_int": _int64, "parse_float": _finite, "parse_constant": _refuse_constant}
             if _may_be_out_of_range(raw) else {})
    try:
        document = json.loads(text, **hooks)
    except UntrustedJSONError:
        raise
    except ValueError:
        raise UntrustedJSONError("the body is not valid JSON") from None
    if _SUSPECT_ESCAPE.search(raw) and not _text_is_storable(document):
        raise UntrustedJSONError("a JSON string holds NUL or a lone UTF-16 surrogate")
    return document


def seconds_since(stamp: object, now: float | None = None) -> float | None:
    """How long ago (negative: ahead of ``now``) a request says it was sent, from its Unix time in
    seconds; None when ``stamp`` is no such number (missing, signed, too long, not ASCII digits)."""
    if not isinstance(stamp, str) or not _UNIX_SECONDS.fullmatch(stamp):
        return None
    return (time.time() if now is None else now) - int(stamp)


def _depth(raw: bytes) -> int:
    """The deepest nesting of brackets outside strings, in C-speed passes (bodies reach 2 MiB)."""
    steps = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(_BRACKET_STEPS, _NOT_BRACKET)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def _may_be_out_of_range(raw: bytes) -> bool:
    """19 digits or more in a row, a 3-digit exponent, NaN or Infinity: only such documents pay for
    the number hooks (a Python call per number). Digits in a string raise a false alarm, which
    costs time, never a wrong answer; a regex search here cost more than the parse itself."""
    shapes = raw.translate(_NUMBER_SHAPES)
    return (b"9" * 19 in shapes or b"e999" in shapes or b"e+999" in shapes
            or b"NaN" in raw or b"Infinity" in raw)


def _int64(digits: str) -> int:
    # Checked on the text first: int() of thousands of digits costs quadratic time.
    if len(digits.lstrip("-")) > 19 or not INT64_MIN <= (value := int(digits)) <= INT64_MAX:
        raise UntrustedJSONError("a JSON integer does not fit in 64 bits")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UntrustedJSONError("a JSON number is too large")
    return value


def _refuse_constant(name: str) -> Any:
    raise UntrustedJSONError(f"{name} is not JSON")


def _text_is_storable(document: Any) -> bool:
    """No string (key or value) holds NUL or a lone surrogate; iterative, as the depth is bounded
    but the width is not."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _encodes(item)):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
