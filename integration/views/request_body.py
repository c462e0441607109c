"""The JSON object a view reads from its request body, bounded, or the 4xx that says why not."""

from __future__ import annotations

from flask import request

from connectors.untrusted_input import UntrustedJSONError, parse_json_document
from integration.errors import APIError


def read_json_object(max_bytes: int, *, empty_ok: bool = False) -> dict:
    """The body as a JSON object of at most ``max_bytes``; ``empty_ok``: no body reads as ``{}``.

    413 when larger (the declared length is checked before reading), 415 when not
    ``application/json``, 400 when not an object or refused by :func:`parse_json_document`
    (invalid, too deep, a number beyond 64 bits, NUL or a lone surrogate in a string)."""
    if (request.content_length or 0) > max_bytes:
        raise APIError(413, "body_too_large", f"the body must be at most {max_bytes} bytes")
    if not request.is_json:
        raise APIError(415, "unsupported_media_type", "send application/json")
    raw = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH even when chunked
    if len(raw) > max_bytes:
        raise APIError(413, "body_too_large", f"the body must be at most {max_bytes} bytes")
    if not raw and empty_ok:
        return {}
    try:
        data = parse_json_document(raw)
    except UntrustedJSONError as exc:
        raise APIError(400, "invalid_json", str(exc)) from None
    if not isinstance(data, dict):
        raise APIError(400, "invalid_body", "the body must be a JSON object")
    return data
