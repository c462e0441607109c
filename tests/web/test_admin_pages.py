"""Every page of the embedded admin renders in the merchant's language with the app nav, the
Polaris and App Bridge scripts, and the strings its scripts ask for."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from integration.views.admin_pages import PAGES
from tests.shopify_fixtures import SHOPIFY_SHOP

STATIC = Path(__file__).resolve().parents[2] / "integration" / "static"
ALL_PAGES = [*PAGES, "/admin/orders/7"]
STRING_KEY = re.compile(r"""\bt\(['"]([a-z0-9_]+)['"]""")  # t('key') in the pages' scripts


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.nav: list[str] = []
        self.scripts: list[str] = []
        self.json: dict[str, str] = {}
        self._in_json: str | None = None
        self.heading = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "s-link" and a.get("href", "").startswith("/admin"):
            self.nav.append(a["href"])
        if tag == "s-page":
            self.heading = a.get("heading")
        if tag == "script" and a.get("type") == "module":
            self.scripts.append(a["src"])
        if tag == "script" and a.get("type") == "application/json":
            self._in_json = a["id"]

    def handle_data(self, data):
        if self._in_json:
            self.json[self._in_json] = self.json.get(self._in_json, "") + data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = None


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.mark.parametrize("path", ALL_PAGES)
def test_each_page_has_the_nav_and_the_strings_its_scripts_use(client, path):
    r = client.get(f"{path}?shop={SHOPIFY_SHOP}&locale=de-DE")
    assert r.status_code == 200
    page = parse(r.get_data(as_text=True))
    assert page.nav == list(PAGES)
    assert '<html lang="de">' in r.get_data(as_text=True)
    strings = {**json.loads(page.json["ns-base-strings"]), **json.loads(page.json["ns-strings"])}
    assert strings["show_as_table"] == "Als Tabelle anzeigen"
    sources = [STATIC / "admin" / "nearstock.js"]
    for src in page.scripts:
        assert src.startswith("/static/") and "?v=" in src
        sources.append(STATIC / src.removeprefix("/static/").split("?")[0])
    used = {key for source in sources for key in STRING_KEY.findall(source.read_text())}
    assert used - set(strings) == set(), f"{path}: its scripts ask for strings the page does not give"


def test_the_language_follows_shopifys_locale_parameter(client):
    german = parse(client.get(f"/admin/orders?shop={SHOPIFY_SHOP}&locale=de").get_data(as_text=True))
    chinese = parse(client.get(f"/admin/orders?shop={SHOPIFY_SHOP}&locale=zh-TW").get_data(as_text=True))
    unknown = parse(client.get(f"/admin/orders?shop={SHOPIFY_SHOP}&locale=xx-" + "y" * 500).get_data(as_text=True))
    assert (german.heading, chinese.heading, unknown.heading) == ("Bestellungen", "订单", "Orders")


def test_static_files_are_served(client):
    r = client.get("/static/admin/nearstock.js")
    assert r.status_code == 200 and "export async function api" in r.get_data(as_text=True)
    assert client.get("/static/vendor/uplot/uPlot.iife.min.js").status_code == 200


def test_the_amazon_page_is_laid_out_for_the_servers_amazon_setting(app, client, monkeypatch):
    """Known before any call: shown from the first paint, not swapped in once /api answers."""
    import dataclasses

    def page() -> str:
        return client.get(f"/admin/amazon?shop={SHOPIFY_SHOP}").get_data(as_text=True)

    off = page()
    assert '<s-banner id="amazon-disabled" tone="warning">' in off
    assert re.search(r'<s-section id="amazon-connect"[^>]*\shidden>', off)
    config = app.config["NEARSTOCK"]
    monkeypatch.setitem(app.config, "NEARSTOCK", dataclasses.replace(config, amazon_application_id="amzn1.app"))
    on = page()
    assert '<s-banner id="amazon-disabled" tone="warning" hidden>' in on
    assert not re.search(r'<s-section id="amazon-connect"[^>]*\shidden>', on)
