"""The theme app extension: Shopify Theme Check passes with zero errors, the script stays small,
the Liquid renders the metafield document (python-liquid, the sandbox's renderer)."""
# ruff: noqa: RUF001 - shopper-facing texts use typographic dashes (en dash) and CJK punctuation

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.storefront import StaticCatalog, create_storefront
from sandbox.storefront.render import block_schema

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = ROOT / "extensions"
EXTENSION = EXTENSIONS / "stock-status"
THEME_CHECK = EXTENSIONS / "node_modules" / "@shopify" / "theme-check-node"


def test_layout_is_the_shopify_cli_one():
    for path in ("shopify.extension.toml", "blocks/stock-status.liquid", "blocks/stock-status-embed.liquid",
                 "assets/stock-status.js", "snippets/stock-status.liquid", "locales/en.default.json"):
        assert (EXTENSION / path).is_file(), path
    block = block_schema("stock-status")
    assert block["target"] == "section" and block["javascript"] == "stock-status.js"
    assert {"show_eta", "show_count", "count_under", "color_in_stock", "color_low", "color_out"} <= {
        s["id"] for s in block["settings"]}
    assert block_schema("stock-status-embed")["target"] == "body"


def test_script_is_within_budget():
    raw = (EXTENSION / "assets" / "stock-status.js").read_bytes()
    assert len(gzip.compress(raw, 9)) <= 2048  # our target; Shopify's ceiling is 10 KB
    assert len(raw) < 10_000
    assert b"innerHTML" not in raw  # texts are set as text, never parsed as HTML


def test_theme_check_reports_no_errors():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not installed (Theme Check runs on Node 20)")
    if not THEME_CHECK.is_dir():
        pytest.skip("Theme Check not installed: run `npm ci --prefix extensions`")
    result = subprocess.run([node, "theme-check.mjs", "stock-status"], cwd=EXTENSIONS, capture_output=True,
                            text=True, timeout=240, check=False)
    report = json.loads(result.stdout)
    assert report["errors"] == 0 and result.returncode == 0, report["offenses"]
    assert report["offenses"] == [], report["offenses"]  # no warnings either


def _catalog(doc: dict | None, available: bool = True) -> StaticCatalog:
    metafields = {"$app:nearstock": {"status": {"value": doc, "type": "json"}}} if doc else {}
    return StaticCatalog([{"id": 7, "title": "Mug", "handle": "mug", "description": "", "variants": [
        {"id": 71, "title": "Blue", "price": "12.00", "available": available, "metafields": metafields},
        {"id": 72, "title": "Red", "price": "12.00", "available": False, "metafields": {}},
    ]}])


DOC = {"v": 1, "default": "en", "markets": {
    "DE": {"code": "low_stock", "quantity": 3, "texts": {
        "en": {"status": "Only 3 left", "plain": "Low stock", "eta": "Arrives in 2–4 days"},
        "de": {"status": "Nur noch 3 verfügbar", "plain": "Nur noch wenige verfügbar",
               "eta": "Lieferung in 2–4 Tagen"}}},
    "*": {"code": "ships_from_abroad", "quantity": None, "texts": {
        "en": {"status": "In stock, ships from abroad", "plain": "In stock, ships from abroad",
               "eta": "<b>Arrives</b> in 6–11 days"}}}}}


def render(doc, query: str, **settings) -> str:
    app = create_storefront(_catalog(doc), app_url="http://127.0.0.1:9", api_secret="s",
                            shop_domain="acme.myshopify.com", block_settings=settings)
    response = app.test_client().get(f"/products/mug?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_block_renders_the_market_and_language_from_the_metafield():
    html = render(DOC, "country=DE&locale=de")
    assert 'data-ns-s aria-live="polite">Nur noch 3 verfügbar</p>' in html
    assert "Lieferung in 2–4 Tagen" in html and 'data-code="low_stock"' in html
    html = render(DOC, "country=JP&locale=ja")  # no Japanese texts, no JP market: default language, "*"
    assert ">In stock, ships from abroad</p>" in html
    assert "&lt;b&gt;Arrives&lt;/b&gt; in 6–11 days" in html  # escaped, never markup


def test_theme_settings_hide_the_count_and_the_estimate():
    html = render(DOC, "country=DE", show_count=False, show_eta=False)
    assert ">Low stock</p>" in html and 'data-count-under="0"' in html
    assert 'data-ns-e hidden>' in html
    assert ">Only 3 left</p>" in render(DOC, "country=DE", count_under=4)
    assert ">Low stock</p>" in render(DOC, "country=DE", count_under=3)  # 3 is not under 3


def test_without_metafield_the_block_falls_back_to_shopify_availability():
    html = render(None, "country=DE&variant=72")
    assert ">Out of stock</p>" in html and "data-ns-n hidden" not in html  # sign-up offered
    html = render(None, "country=DE&variant=71&locale=fr")
    assert ">En stock</p>" in html


def test_page_without_the_block_has_no_trace_of_it():
    html = render(DOC, "country=DE&nearstock=0")
    assert "data-nearstock" not in html and "stock-status.js" not in html
