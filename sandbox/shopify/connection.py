"""Relay connections (cursor pagination) and the small part of Shopify's search syntax we serve.

Shopify requires ``first`` or ``last`` on every connection; cursors are opaque base64 strings.
Search syntax: https://shopify.dev/docs/api/usage/search-syntax (only ``field:value`` terms joined
by AND, with ``<``/``>``/``<=``/``>=`` comparisons and free text, are understood here).
"""

from __future__ import annotations

import base64
import json
import re
import shlex

from graphql import GraphQLError

from .state import legacy_id

SORT_FIELDS = {"TITLE": "title", "NAME": "name", "CREATED_AT": "createdAt",
               "UPDATED_AT": "updatedAt", "PROCESSED_AT": "processedAt", "SKU": "sku"}


def encode_cursor(record: dict) -> str:
    number = legacy_id(record["id"]) if str(record.get("id", "")).startswith("gid://") else 0
    raw = json.dumps({"last_id": number, "last_value": record.get("id")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))["last_value"]
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort. {cursor}",
                           extensions={"code": "BAD_REQUEST"}) from exc


def require_page_size(args: dict) -> None:
    if args.get("first") is None and args.get("last") is None:
        raise GraphQLError("you must provide one of first or last",
                           extensions={"code": "BAD_REQUEST"})
    for name in ("first", "last"):
        if args.get(name) is not None and args[name] < 0:
            raise GraphQLError(f"{name} must be greater than or equal to 0",
                               extensions={"code": "BAD_REQUEST"})


def paginate(items: list[dict], args: dict, *, unbounded: bool = False) -> dict:
    """``unbounded`` is for bulk operations, which ignore page sizes."""
    if not unbounded:
        require_page_size(args)
    items = list(items)
    sort_field = SORT_FIELDS.get(str(args.get("sortKey") or ""))
    if sort_field:
        items.sort(key=lambda r: (str(r.get(sort_field) or ""), legacy_id(r["id"])))
    if args.get("reverse"):
        items.reverse()
    ids = [r.get("id") for r in items]
    start, end = 0, len(items)
    if args.get("after"):
        after = _decode_cursor(args["after"])
        start = ids.index(after) + 1 if after in ids else len(items)
    if args.get("before"):
        before = _decode_cursor(args["before"])
        end = ids.index(before) if before in ids else end
    window = items[start:end]
    has_next = has_prev = False
    if not unbounded and args.get("first") is not None:
        has_next = len(window) > args["first"] or end < len(items)
        window = window[: args["first"]]
        has_prev = start > 0
    if not unbounded and args.get("last") is not None:
        has_prev = len(window) > args["last"] or start > 0
        window = window[-args["last"]:] if args["last"] else []
        has_next = has_next or end < len(items)
    edges = [{"cursor": encode_cursor(r), "node": r} for r in window]
    return {
        "edges": edges,
        "nodes": window,
        "pageInfo": {
            "hasNextPage": has_next, "hasPreviousPage": has_prev,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


_TERM = re.compile(r"^(?P<field>[a-z_.]+):(?P<op><=|>=|<|>)?(?P<value>.*)$")


def parse_search(query: str | None) -> list[tuple[str | None, str, str]]:
    if not query:
        return []
    try:
        tokens = shlex.split(query)
    except ValueError:
        tokens = query.split()
    terms = []
    for token in tokens:
        if token.upper() in {"AND", "OR", "NOT"}:
            continue
        match = _TERM.match(token)
        if match:
            terms.append((match["field"], match["op"] or "=", match["value"].strip("'\"")))
        else:
            terms.append((None, "~", token))
    return terms


def matches(record_values: dict[str, object], terms, text_fields=("title", "name", "sku")) -> bool:
    """``record_values`` maps search field names to values; unknown fields never match, like a
    filter on an attribute the object does not have."""
    for field, op, value in terms:
        if field is None:
            hay = " ".join(str(record_values.get(f) or "") for f in text_fields).lower()
            if value.lower() not in hay:
                return False
            continue
        if field not in record_values:
            return False
        actual = record_values[field]
        if op == "=":
            wanted = value.lower()
            if wanted.endswith("*"):
                if not str(actual).lower().startswith(wanted[:-1]):
                    return False
            elif str(actual).lower() != wanted:
                return False
        else:
            left, right = str(actual), value
            if left.lstrip("-").isdigit() and right.lstrip("-").isdigit():
                left, right = int(left), int(right)  # ids and counts compare as numbers
            ok = {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
            if not ok:
                return False
    return True
