"""Goodcang failure answers -> connector errors, for :mod:`connectors.warehouses.goodcang`.

Which codes mean what is in :mod:`connectors.warehouses.goodcang_codes` (the SDK publishes no
error dictionary, so every code there is marked assumed and backed by a message pattern).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.warehouses import goodcang_codes as codes

SYSTEM = "goodcang"


def failure_of(body: Mapping) -> tuple[str, str] | None:
    """(errCode, message) when an answer is a failure, else None. sdk:ResponseAsk.java: success is
    ``ask == "Success"`` or ``code == 1``; the failure detail is ``Error`` (sdk:Error.java)."""
    if "ask" in body:
        if body.get("ask") == codes.ASK_SUCCESS:
            return None
    elif str(body.get("code")) == codes.CODE_SUCCESS:
        return None
    error = body.get("Error") if isinstance(body.get("Error"), Mapping) else {}
    code = error.get("errCode") or ("" if "ask" in body else body.get("code")) or ""
    message = error.get("errMessage") or body.get("message") or "Failure"
    return str(code), str(message)


def error_for(code: str, message: str, payload: Mapping, operation: str):
    """The connector error for a Goodcang failure answer."""
    text = f"Goodcang {code}: {message}" if code else f"Goodcang: {message}"
    if code in codes.AUTH_CODES or codes.AUTH_RE.search(message):
        return AuthError(text, code=code or None, system=SYSTEM, operation=operation)
    if code in codes.THROTTLE_CODES or codes.THROTTLE_RE.search(message):
        return RetryableError(text, retry_after=1.0, system=SYSTEM, operation=operation)
    if codes.BUSY_RE.search(message):
        return RetryableError(text, system=SYSTEM, operation=operation)
    return PermanentError(text, field=field_in(message, payload), code=code or None, system=SYSTEM,
                          operation=operation)


def field_in(message: str, payload: Mapping) -> str | None:
    """The request field a validation message names (Goodcang says ``"<field>不能为空"``)."""
    named = codes.FIELD_RE.search(message)
    if named:
        return named.group(1)
    names = set(_keys(payload))
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", message):
        if token in names or token.split(".")[0] in names:
            return token
    return None


def _keys(value) -> Iterable[str]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def is_duplicate(error: PermanentError) -> bool:
    return (error.code in codes.DUPLICATE_CODES) or bool(codes.DUPLICATE_RE.search(error.message))


def is_audited(error: PermanentError) -> bool:
    return (error.code in codes.AUDITED_CODES) or bool(codes.AUDITED_RE.search(error.message))


def is_discarded(error: PermanentError) -> bool:
    return error.code in codes.DISCARDED_CODES or "已废弃" in error.message


def is_not_found(error: PermanentError) -> bool:
    return error.code in codes.NOT_FOUND_CODES or error.message.strip().lower() == "no data"
