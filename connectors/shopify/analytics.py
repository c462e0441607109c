"""Shopify's analytics through ``shopifyqlQuery`` (Admin API, ``read_reports`` scope).

https://shopify.dev/docs/apps/build/shopifyql/graphql-admin-api : the query is a ShopifyQL string;
a query Shopify cannot parse comes back with ``parseErrors`` and no table (HTTP 200), which is our
bug, not the shop's: it raises PermanentError. Countries come back as names, as the reports show
them; they are mapped back to ISO codes with CLDR's English territory names (Babel).
"""

from __future__ import annotations

import functools
from datetime import date

from babel import Locale

from connectors.errors import PermanentError
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import ProductTraffic

SESSIONS = "FROM sessions SHOW sessions SINCE {since} UNTIL {until} GROUP BY product_id, session_country"
ORDERS = "FROM sales SHOW orders SINCE {since} UNTIL {until} GROUP BY product_id, billing_country"


@functools.cache
def _country_codes() -> dict[str, str]:
    names = Locale("en").territories
    return {name.lower(): code for code, name in names.items() if len(code) == 2 and code.isalpha()}


def country_code(value: str | None) -> str | None:
    """An ISO alpha-2 code for a country name (or a code) ShopifyQL returned; None if unknown."""
    text = (value or "").strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _country_codes().get(text.lower())


def run_table(client: ShopifyClient, query: str) -> list[dict]:
    """The rows of one ShopifyQL query, as dicts keyed by column name."""
    result = client.execute("ShopifyqlTable", {"query": query})["shopifyqlQuery"]
    if result is None or result["parseErrors"] or result["tableData"] is None:
        errors = (result or {}).get("parseErrors") or ["no table returned"]
        raise PermanentError(f"ShopifyQL refused {query!r}: {'; '.join(errors)}")
    table = result["tableData"]
    names = [c["name"] for c in table["columns"]]
    # Rows are objects keyed by column name; an array per row is read by column position.
    return [row if isinstance(row, dict) else dict(zip(names, row, strict=False))
            for row in table["rows"] or []]


def _count(value) -> int:
    try:
        return int(float(value or 0))
    except (TypeError, ValueError):
        return 0


def get_product_traffic(client: ShopifyClient, since: date, until: date) -> list[ProductTraffic]:
    dates = {"since": since.isoformat(), "until": until.isoformat()}
    totals: dict[tuple[str, str], list[int]] = {}
    for query, country_column, index in ((SESSIONS, "session_country", 0),
                                         (ORDERS, "billing_country", 1)):
        for row in run_table(client, query.format(**dates)):
            market = country_code(row.get(country_column))
            product = str(row.get("product_id") or "").strip()
            if market is None or not product.isdigit():
                continue  # unknown country, or a row not tied to one product
            key = (f"gid://shopify/Product/{product}", market)
            totals.setdefault(key, [0, 0])[index] += _count(row.get(
                "sessions" if index == 0 else "orders"))
    return [ProductTraffic(product_id=p, market=m, sessions=s, orders=o)
            for (p, m), (s, o) in sorted(totals.items())]
