"""The loyalty theme app block: Shopify CLI layout, Theme Check clean, a small deferred script that
never parses HTML, and Liquid that renders for logged-in and logged-out shoppers."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.storefront.render import ThemeLoader, Translations, block_schema, make_environment, setting_defaults

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = ROOT / "extensions"
EXTENSION = EXTENSIONS / "loyalty"


def test_layout_is_the_shopify_cli_one():
    for path in ("shopify.extension.toml", "blocks/loyalty.liquid", "assets/loyalty.js", "locales/en.default.json"):
        assert (EXTENSION / path).is_file(), path
    toml = (EXTENSION / "shopify.extension.toml").read_text()
    assert 'type = "theme"' in toml
    schema = block_schema("loyalty", EXTENSION)
    assert schema["target"] == "section" and schema["javascript"] == "loyalty.js"  # loaded with defer


def test_script_is_small_and_sets_text_only():
    raw = (EXTENSION / "assets" / "loyalty.js").read_bytes()
    assert len(gzip.compress(raw, 9)) <= 2048
    assert b"innerHTML" not in raw and b"insertAdjacentHTML" not in raw and b"eval(" not in raw


def test_theme_check_reports_no_errors():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not installed (Theme Check runs on Node 20)")
    if not (EXTENSIONS / "node_modules" / "@shopify" / "theme-check-node").is_dir():
        pytest.skip("Theme Check not installed: run `npm ci --prefix extensions`")
    result = subprocess.run([node, "theme-check.mjs", "loyalty"], cwd=EXTENSIONS, capture_output=True, text=True,
                            timeout=240, check=False)
    report = json.loads(result.stdout)
    assert report["errors"] == 0 and report["offenses"] == [], report["offenses"]


def render(customer, locale: str = "en") -> str:
    env = make_environment(Translations(EXTENSION / "locales"), loader=ThemeLoader(extension=EXTENSION),
                           asset_base="/ext/loyalty/assets")
    settings = setting_defaults(block_schema("loyalty", EXTENSION))
    return env.get_template("blocks/loyalty").render(
        customer=customer, block={"settings": settings, "shopify_attributes": ""},
        request={"locale": {"iso_code": locale}}, routes={"account_login_url": "/account/login"})


def test_logged_in_shoppers_get_the_live_block_in_their_language():
    html = render({"id": 7}, "de")
    assert "data-nearstock-loyalty" in html and 'data-proxy="/apps/nearstock"' in html
    assert "Punkte" in html and 'data-t-tier="Ihr Status: {name}"' in html and 'data-history="5"' in html
    assert "/account/login" not in html


def test_logged_out_shoppers_get_the_login_link_and_no_request():
    html = render(None)
    assert "data-nearstock-loyalty" not in html and 'href="/account/login"' in html
    assert "Log in to see your points" in html
