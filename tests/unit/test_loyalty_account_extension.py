"""The customer account UI extension (``extensions/loyalty-account``), read as Shopify CLI reads it:
a valid TOML naming a customer account target and a module that exists, an API version that
matches the pinned ``@shopify/ui-extensions``, a source that fetches our endpoint with the session
token and shows points, tier and rewards, strings in every language. When the extension's
``node_modules`` are installed (``npm ci --prefix extensions/loyalty-account``), the source is also
bundled with its real imports and its web components are checked against the package's own
component types."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "extensions" / "loyalty-account"
LOCALES = ("en.default", "de", "fr", "es", "it", "nl", "ja", "zh-CN")


def _toml() -> dict:
    return tomllib.loads((EXT / "shopify.extension.toml").read_text())


def _source() -> str:
    return "\n".join(p.read_text() for p in sorted((EXT / "src").glob("*.js*")))


def test_toml_names_a_customer_account_target_and_an_existing_module():
    config = _toml()
    [extension] = config["extensions"]
    assert extension["type"] == "ui_extension" and extension["handle"] == "loyalty-account"
    targets = {t["target"]: t["module"] for t in extension["targeting"]}
    assert set(targets) <= {"customer-account.profile.block.render", "customer-account.page.render"} and targets
    for module in targets.values():
        assert (EXT / module).is_file(), module
    assert extension["capabilities"]["network_access"] is True  # fetch() to the app


def test_api_version_matches_the_pinned_package_and_the_app():
    package = json.loads((EXT / "package.json").read_text())
    pinned = {**package["dependencies"], **package.get("devDependencies", {})}
    for name, version in pinned.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly, not {version}"
    year, month, _ = pinned["@shopify/ui-extensions"].split(".")
    assert _toml()["api_version"] == f"{year}-{int(month):02}"
    app = tomllib.loads((ROOT / "shopify.app.toml").read_text())
    assert _toml()["api_version"] == app["webhooks"]["api_version"]


def test_the_source_calls_our_endpoint_with_the_session_token():
    from integration.views.customer_account import bp

    source = _source()
    assert "shopify.sessionToken.get()" in source
    assert re.search(r"Authorization: `Bearer \$\{token\}`", source)
    path = re.search(r"LOYALTY_PATH = '([^']+)'", source).group(1)
    assert path == f"{bp.url_prefix}/loyalty"
    app_url = re.search(r"APP_URL = '([^']+)'", source).group(1)
    app = tomllib.loads((ROOT / "shopify.app.toml").read_text())
    assert app_url == app["application_url"].rstrip("/")


def test_the_source_renders_points_tier_and_rewards_in_every_language():
    source = _source()
    for field in ("data.balance", "data.tier", "data.next_tier", "data.rewards", "data.redeemable", "data.perks"):
        assert field in source, field
    keys = set(re.findall(r"\bt\('([a-z_]+)'", source))
    assert {"points", "tier", "rewards", "heading", "error", "loading", "priority_after_sales"} <= keys
    english = json.loads((EXT / "locales" / "en.default.json").read_text())
    for locale in LOCALES:
        strings = json.loads((EXT / "locales" / f"{locale}.json").read_text())
        assert keys <= set(strings), (locale, keys - set(strings))
        for key in keys:
            ours, theirs = english[key], strings[key]
            texts = lambda v: v.values() if isinstance(v, dict) else [v]  # noqa: E731 - plural forms
            wanted = set(re.findall(r"\{\{(\w+)\}\}", " ".join(texts(ours))))
            for text in texts(theirs):
                assert set(re.findall(r"\{\{(\w+)\}\}", text)) == wanted, (locale, key, text)
        assert "other" in strings["points"]


def test_the_theme_block_stays_for_legacy_customer_accounts():
    theme = tomllib.loads((ROOT / "extensions" / "loyalty" / "shopify.extension.toml").read_text())
    assert theme["type"] == "theme"


def _installed() -> Path:
    modules = EXT / "node_modules"
    if not (modules / "@shopify" / "ui-extensions").is_dir() or not (modules / ".bin" / "esbuild").exists():
        pytest.skip("extensions/loyalty-account/node_modules is not installed "
                    "(npm ci --prefix extensions/loyalty-account needs the npm registry)")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    return modules


def test_the_source_bundles_with_its_real_imports(tmp_path):
    modules = _installed()
    out = tmp_path / "bundle.js"
    result = subprocess.run(
        [str(modules / ".bin" / "esbuild"), "src/LoyaltyBlock.jsx", "--bundle", "--format=esm", "--jsx=automatic",
         "--jsx-import-source=preact", "--log-level=warning", f"--outfile={out}"],
        cwd=EXT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert "sessionToken" in out.read_text()


def test_every_web_component_and_attribute_is_a_customer_account_one():
    modules = _installed()
    components = modules / "@shopify/ui-extensions/build/ts/surfaces/customer-account/components"
    declared = {}
    for path in components.glob("*.d.ts"):
        tag = re.search(r'declare const tagName = "(s-[a-z-]+)"', path.read_text())
        if tag:
            declared[tag.group(1)] = path.read_text()
    used = re.findall(r"<(s-[a-z-]+)((?:\s+[a-zA-Z]+=)*)", _source())
    assert used
    for tag, _ in used:
        assert tag in declared, tag
    for tag, attrs in re.findall(r"<(s-[a-z-]+)([^>]*)>", _source()):
        for attr in re.findall(r"\s([a-zA-Z]+)=", attrs):
            if attr != "key":
                assert re.search(rf"'{attr}'|\b{attr}\?:", declared[tag]), (tag, attr)
