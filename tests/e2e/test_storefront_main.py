"""`python -m sandbox.storefront`, as the README says, starts on its own defaults (no Shopify
endpoint: an emulator of its own with the demo shop) and serves product pages with the stock status
block, whose app proxy requests reach the app signed with the app secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bench.common import free_port
from integration.extensions import db
from integration.models import Shop
from sandbox.server import serve
from tests.conftest import API_SECRET

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEMO_SHOP = "nearstock-demo.myshopify.com"


def storefront_env(tmp_path, app_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SHOPIFY_", "DATABASE_", "REDIS_", "APP_", "NEARSTOCK_", "TEST_"))}
    env.update(NEARSTOCK_INSTANCE_PATH=str(tmp_path / "storefront"), APP_URL=app_url,
               SHOPIFY_API_SECRET=API_SECRET)
    return env


def wait_for(url: str, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_storefront_starts_alone_and_serves_the_block_through_the_app_proxy(app, tmp_path):
    db.session.add(Shop(domain=DEMO_SHOP, access_token="shpat_demo", status="installed"))
    db.session.commit()
    server = serve(app)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.storefront", "--port", str(port)], cwd=ROOT,
                            env=storefront_env(tmp_path, server.url), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        front = f"http://127.0.0.1:{port}"
        page = wait_for(front + "/products/merino-hoodie")
        assert page.status_code == 200
        assert "<title>Merino Hoodie – Nearstock Demo</title>" in page.text  # noqa: RUF001 - the theme's dash
        assert 'data-proxy="/apps/nearstock"' in page.text and "/ext/stock-status/assets/stock-status.js" in page.text
        variant = re.search(r'data-nearstock[^>]*data-variant="(\d+)"', page.text, re.S).group(1)
        assert requests.get(front + "/ext/stock-status/assets/stock-status.js", timeout=5).status_code == 200

        # What the block's script asks: forwarded to the app, signed; the app knows the shop and
        # has no status for the variant yet (no warehouse stock).
        live = requests.get(front + "/apps/nearstock/stock", params={"variant_id": variant, "country": "DE"},
                            timeout=10)
        assert live.status_code == 404 and live.json()["error"]["code"] == "unknown_variant"
        forged = requests.get(f"{server.url}/proxy/stock", params={"variant_id": variant, "shop": DEMO_SHOP},
                              timeout=10)
        assert forged.status_code == 401  # the same request unsigned: what the signature was for
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        server.shutdown()
    assert f"Sandbox storefront of {DEMO_SHOP} on http://127.0.0.1:{port}" in out


def test_a_shop_that_is_not_a_shopify_domain_is_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sandbox.storefront", "--shop", "evil.example.com",
                           "--port", str(free_port())], cwd=ROOT, env=storefront_env(tmp_path, "http://127.0.0.1:9"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not a name.myshopify.com domain" in done.stderr
