"""``shopifyqlQuery`` in the emulator: the real response shape, parse errors, the scope, and the
connector reading sessions and orders per product and market through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from connectors.errors import PermanentError
from connectors.shopify import operations
from connectors.shopify.client import QUERIES_DIR, ShopifyClient
from tests.shopify_fixtures import SHOPIFY_SHOP, seed_shopify_catalog, shopify_graphql

REFERENCE = Path(__file__).parents[2].parent / "shared/reference/shopify/admin-2026-07.graphql"
FULL = """query($q: String!) { shopifyqlQuery(query: $q) {
  parseErrors
  tableData { columns { name dataType displayName shortDisplayName subType columnOrigin }
              rowMetadata { rawResourceIds topNRemainderColumnNames
                            nullCellTranslations { columnName displayText } }
              rows } } }"""
SESSIONS = "FROM sessions SHOW sessions SINCE -30d UNTIL today GROUP BY product_id, session_country"


@pytest.fixture
def seeded(shopify_emulator):
    catalog = seed_shopify_catalog(shopify_emulator)
    shopify_emulator.add_product_sessions(SHOPIFY_SHOP, catalog["product"], "DE", 120)
    shopify_emulator.add_product_sessions(SHOPIFY_SHOP, catalog["product"], "FR", 30)
    old = datetime.now(UTC).date() - timedelta(days=60)
    shopify_emulator.add_product_sessions(SHOPIFY_SHOP, catalog["product"], "DE", 999, day=old)
    return catalog


def test_the_query_and_the_document_are_valid_against_the_real_sdl():
    if not REFERENCE.exists():
        pytest.skip(f"../shared/reference/shopify/admin-2026-07.graphql not present: "
                    f"cannot check shopifyqlQuery against the real schema ({REFERENCE})")
    real = build_schema(REFERENCE.read_text())
    assert validate(real, parse(FULL)) == []
    assert validate(real, parse((QUERIES_DIR / "ShopifyqlTable.graphql").read_text())) == []


def test_a_valid_query_answers_in_the_real_shape(shopify_emulator, seeded):
    body = shopify_graphql(shopify_emulator, seeded["token"], FULL, {"q": SESSIONS}).json()
    assert "errors" not in body
    result = body["data"]["shopifyqlQuery"]
    assert result["parseErrors"] == []
    table = result["tableData"]
    assert [(c["name"], c["dataType"], c["columnOrigin"]) for c in table["columns"]] == [
        ("product_id", "STRING", "REQUESTED"), ("session_country", "STRING", "REQUESTED"),
        ("sessions", "INTEGER", "REQUESTED")]
    product_id = seeded["product"].rsplit("/", 1)[1]
    # The session 60 days ago is outside SINCE -30d.
    assert table["rows"] == [
        {"product_id": product_id, "session_country": "France", "sessions": "30"},
        {"product_id": product_id, "session_country": "Germany", "sessions": "120"}]
    assert len(table["rowMetadata"]) == 2
    assert body["extensions"]["cost"]["actualQueryCost"] >= 1


@pytest.mark.parametrize("query", [
    "SHOW sessions FROM sessions",                                  # keyword order
    "FROM visits SHOW sessions",                                    # unknown table
    "FROM sessions SHOW orders",                                    # metric of another table
    "FROM sessions SHOW sessions GROUP BY billing_country",         # dimension of another table
    "FROM sessions SHOW sessions, product_id",                      # dimension not grouped
    "FROM sessions SHOW sessions SINCE -3x",                        # bad date
    "FROM sessions SHOW sessions SINCE today UNTIL -5d",            # reversed range
    "FROM sessions SHOW sessions GROUP BY product_id SINCE -30d",   # GROUP BY before SINCE
    "FROM sessions SHOW sessions; DROP TABLE x",
])
def test_an_invalid_query_gives_parse_errors_not_a_table(shopify_emulator, seeded, query):
    body = shopify_graphql(shopify_emulator, seeded["token"], FULL, {"q": query}).json()
    assert "errors" not in body
    result = body["data"]["shopifyqlQuery"]
    assert result["tableData"] is None
    assert result["parseErrors"] and all(isinstance(e, str) and e for e in result["parseErrors"])


def test_without_read_reports_the_field_is_refused(shopify_emulator, seeded):
    scopes = shopify_emulator.oauth.default_scopes - {"read_reports"}
    token = shopify_emulator.grant_token(SHOPIFY_SHOP, scopes)
    body = shopify_graphql(shopify_emulator, token, FULL, {"q": SESSIONS}).json()
    assert body["data"]["shopifyqlQuery"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_reports" in error["message"]


def test_the_connector_reads_sessions_and_orders_per_product_and_market(
        shopify_emulator, seeded, redis_conn):
    client = ShopifyClient(SHOPIFY_SHOP, seeded["token"], redis=redis_conn,
                           endpoint=shopify_emulator.url)
    today = datetime.now(UTC).date()
    traffic = operations.get_product_traffic(client, today - timedelta(days=29), today)
    by_market = {t.market: (t.product_id, t.sessions, t.orders) for t in traffic}
    # The catalog's one order ships to (and is billed in) Germany.
    assert by_market == {"DE": (seeded["product"], 120, 1), "FR": (seeded["product"], 30, 0)}


def test_the_connector_raises_on_parse_errors(shopify_emulator, seeded, redis_conn):
    from connectors.shopify.analytics import run_table

    client = ShopifyClient(SHOPIFY_SHOP, seeded["token"], redis=redis_conn,
                           endpoint=shopify_emulator.url)
    with pytest.raises(PermanentError, match="ShopifyQL refused"):
        run_table(client, "FROM nowhere SHOW nothing")


def test_storefront_product_views_are_sessions_once_per_visitor(shopify_emulator, seeded):
    from sandbox.storefront import create_storefront
    from sandbox.storefront.catalog import EmulatorCatalog

    app = create_storefront(EmulatorCatalog(shopify_emulator, SHOPIFY_SHOP), app_url="http://127.0.0.1:9",
                            api_secret="s", shop_domain=SHOPIFY_SHOP)
    handle = shopify_emulator.shop(SHOPIFY_SHOP).nodes[seeded["product"]]["handle"]
    first, second = app.test_client(), app.test_client()
    for _ in range(3):  # reloads within one session count once
        assert first.get(f"/products/{handle}?country=FR").status_code == 200
    assert second.get(f"/products/{handle}?country=FR").status_code == 200
    assert second.get(f"/products/{handle}?country=ZZ").status_code == 200  # not a market: not counted
    body = shopify_graphql(shopify_emulator, seeded["token"], FULL, {"q": SESSIONS}).json()
    rows = body["data"]["shopifyqlQuery"]["tableData"]["rows"]
    assert {r["session_country"]: r["sessions"] for r in rows} == {"France": "32", "Germany": "120"}
