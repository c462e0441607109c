"""``shopifyqlQuery``: a small, strict subset of ShopifyQL answered from the emulator's own state.

https://shopify.dev/docs/api/shopifyql : a query needs ``FROM`` and ``SHOW``; the other keywords
are optional but keep their order (FROM, SHOW, WHERE, SINCE/UNTIL, GROUP BY, ...). Served here:

    FROM sessions SHOW sessions [SINCE d] [UNTIL d] [GROUP BY product_id|product_title|session_country[, ...]]
    FROM sales SHOW orders [SINCE d] [UNTIL d] [GROUP BY product_id|product_title|billing_country[, ...]]

with ``d`` one of ``today``, ``yesterday``, ``-<n>d``, ``-<n>w`` or ``YYYY-MM-DD``. Anything else
is refused the way the API refuses a query it cannot parse: HTTP 200, ``tableData: null`` and
the reasons in ``parseErrors`` (a query is a string argument: GraphQL validation passes it).
Sessions come from :meth:`ShopifyqlMixin.add_product_sessions` (a storefront visit that viewed the
product, in the visitor's country); orders from the shop's orders, by billing country.
Countries are returned as English names, as Shopify's reports show them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from babel import Locale

from .queries import resolver
from .state import legacy_id, parse_iso

# table -> (metrics, dimensions); every column: (display name, ColumnDataType)
TABLES: dict[str, tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]] = {
    "sessions": ({"sessions": ("Sessions", "INTEGER")},
                 {"product_id": ("Product ID", "STRING"), "product_title": ("Product title", "STRING"),
                  "session_country": ("Session country", "STRING")}),
    "sales": ({"orders": ("Orders", "INTEGER")},
              {"product_id": ("Product ID", "STRING"), "product_title": ("Product title", "STRING"),
               "billing_country": ("Billing country", "STRING")}),
}
_QUERY = re.compile(
    r"^\s*FROM\s+(?P<table>\w+)\s+SHOW\s+(?P<show>[\w\s,]+?)"
    r"(?:\s+SINCE\s+(?P<since>\S+))?(?:\s+UNTIL\s+(?P<until>\S+))?"
    r"(?:\s+GROUP\s+BY\s+(?P<group>[\w\s,]+?))?\s*$", re.I | re.S)
_RELATIVE = re.compile(r"^-(?P<n>\d{1,4})(?P<unit>[dw])$")
MAX_DAYS = 3 * 366


class ShopifyqlError(ValueError):
    pass


def country_name(code: str) -> str:
    return Locale("en").territories.get(code.upper(), code.upper())


def _day(text: str, today: date) -> date:
    word = text.lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    match = _RELATIVE.match(word)
    if match:
        n = int(match["n"])
        return today - timedelta(days=n * (7 if match["unit"] == "w" else 1))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ShopifyqlError(f"Invalid date value '{text}'") from None


def _names(text: str) -> list[str]:
    return [part.strip().lower() for part in text.split(",")]


def parse(query: str, today: date) -> dict:
    match = _QUERY.match(query or "")
    if not match:
        raise ShopifyqlError("Syntax error: a query needs FROM and SHOW, and its keywords in order "
                             "(FROM, SHOW, SINCE, UNTIL, GROUP BY)")
    table = match["table"].lower()
    if table not in TABLES:
        raise ShopifyqlError(f"Table '{match['table']}' does not exist")
    metrics, dimensions = TABLES[table]
    show = _names(match["show"])
    group = _names(match["group"]) if match["group"] else []
    for name in show:
        if name not in metrics and name not in dimensions:
            raise ShopifyqlError(f"Column '{name}' does not exist in table '{table}'")
    for name in group:
        if name not in dimensions:
            raise ShopifyqlError(f"Column '{name}' cannot be grouped in table '{table}'")
    for name in show:
        if name in dimensions and name not in group:
            raise ShopifyqlError(f"Dimension '{name}' in SHOW must appear in GROUP BY")
    since = _day(match["since"], today) if match["since"] else today - timedelta(days=30)
    until = _day(match["until"], today) if match["until"] else today
    if since > until:
        raise ShopifyqlError("SINCE must be before UNTIL")
    if (until - since).days > MAX_DAYS:
        raise ShopifyqlError(f"The date range may not exceed {MAX_DAYS} days")
    columns = group + [n for n in show if n in metrics]
    return {"table": table, "columns": list(dict.fromkeys(columns)), "group": group,
            "metrics": [n for n in show if n in metrics], "since": since, "until": until}


def _product_dims(shop, product_gid: str) -> dict:
    product = shop.nodes.get(product_gid) or {}
    return {"product_id": str(legacy_id(product_gid)), "product_title": product.get("title", "")}


def _facts(shop, q: dict):
    """(dimension values, metric values) per fact row, for the query's table and dates."""
    if q["table"] == "sessions":
        for (day, product_gid, country), count in shop.product_sessions.items():
            if q["since"] <= day <= q["until"]:
                yield ({**_product_dims(shop, product_gid), "session_country": country_name(country)},
                       {"sessions": count}, None)
        return
    for order_gid in shop.orders:
        order = shop.nodes[order_gid]
        if not q["since"] <= parse_iso(order["processedAt"]).date() <= q["until"]:
            continue
        country = (order.get("_billing_address") or {}).get("countryCodeV2") or ""
        for line_gid in order["_line_items"]:
            variant = shop.nodes.get(shop.nodes[line_gid]["_variant"])
            if variant is not None:
                # An order counts once per group however many lines it has there.
                yield ({**_product_dims(shop, variant["_product"]),
                        "billing_country": country_name(country)}, {"orders": 1}, order_gid)


def run(shop, q: dict) -> dict:
    totals: dict[tuple, dict[str, int]] = {}
    seen: set[tuple] = set()
    for dims, values, distinct in _facts(shop, q):
        key = tuple(dims[d] for d in q["group"])
        if distinct is not None:
            if (key, distinct) in seen:
                continue
            seen.add((key, distinct))
        bucket = totals.setdefault(key, dict.fromkeys(q["metrics"], 0))
        for metric in q["metrics"]:
            bucket[metric] += values[metric]
    if not q["group"] and not totals:
        totals[()] = dict.fromkeys(q["metrics"], 0)
    metrics, dimensions = TABLES[q["table"]]
    rows = []
    for key in sorted(totals):
        row = dict(zip(q["group"], key, strict=True))
        row.update({m: str(v) for m, v in totals[key].items()})
        rows.append({c: row[c] for c in q["columns"]})
    columns = []
    for name in q["columns"]:
        display, data_type = metrics.get(name) or dimensions[name]
        columns.append({"name": name, "displayName": display, "shortDisplayName": display,
                        "dataType": data_type, "subType": None, "columnOrigin": "REQUESTED"})
    return {"columns": columns, "rows": rows,
            "rowMetadata": [{"nullCellTranslations": [], "topNRemainderColumnNames": [],
                             "rawResourceIds": [[] for _ in q["columns"]]} for _ in rows]}


@resolver("QueryRoot", "shopifyqlQuery")
def shopifyql_query(_root, info, query):
    shop = info.context.shop
    today = datetime.fromtimestamp(info.context.emulator.now(), UTC).date()
    try:
        q = parse(query, today)
    except ShopifyqlError as exc:
        return {"parseErrors": [str(exc)], "tableData": None}
    return {"parseErrors": [], "tableData": run(shop, q)}


class ShopifyqlMixin:
    """Seeding of the analytics ShopifyQL reads. Needs ``self.lock`` and ``self.shop``."""

    def add_product_sessions(self, shop: str, product_gid: str, country_code: str, sessions: int,
                             *, day: date | None = None) -> None:
        """``sessions`` storefront sessions that viewed the product, from ``country_code``."""
        if not re.fullmatch(r"[A-Z]{2}", country_code):
            raise ValueError(f"{country_code!r} is not an ISO 3166 alpha-2 code")
        with self.lock:
            s = self.shop(shop)
            if s.get(product_gid, "Product") is None:
                raise KeyError(f"unknown product {product_gid}")
            key = (day or datetime.now(UTC).date(), product_gid, country_code)
            s.product_sessions[key] = s.product_sessions.get(key, 0) + int(sessions)
