"""Fixtures of the winit emulator: a running WINIT gateway over a seeded warehouse, and a
WinitProvider pointed at it."""

from __future__ import annotations

import pytest

from connectors.warehouses.winit import WinitProvider
from sandbox.warehouses.winit import WinitEmulator

WINIT_APP_KEY = "seller@example.com"
WINIT_TOKEN = "7C1D0A4F9E2B48D6A1C3E5F7092B4D6F"
WINIT_PLATFORM = "NEARSTOCK"
WINIT_WAREHOUSES = {"DEWH": "DE", "USWC": "US"}
# sku -> (title, stock per warehouse)
WINIT_SKUS = {
    "MUG-BLUE": ("Blue mug", {"DEWH": 100, "USWC": 40}),
    "MUG-RED": ("Red mug", {"DEWH": 50, "USWC": 0}),
    "TEE-M": ("T-shirt M", {"DEWH": 20}),
}


def winit_credentials(**overrides) -> dict[str, str]:
    return {"app_key": WINIT_APP_KEY, "token": WINIT_TOKEN, "platform": WINIT_PLATFORM,
            "inbound_product_code": "WINIT-DW-DE", "return_product_code": "RTN-STD", **overrides}


def winit_provider_for(emulator, redis_conn, **kwargs) -> WinitProvider:
    """Another provider for ``emulator`` (own session; ``credentials`` and other arguments may vary)."""
    credentials = kwargs.pop("credentials", None) or winit_credentials()
    return WinitProvider(credentials, redis=redis_conn, account_key="test", endpoint=emulator.url, **kwargs)


@pytest.fixture
def winit_emulator():
    emulator = WinitEmulator(WINIT_APP_KEY, WINIT_TOKEN, platform=WINIT_PLATFORM, warehouses=WINIT_WAREHOUSES,
                             seed=7)
    for sku, (title, stock) in WINIT_SKUS.items():
        emulator.sim.add_sku(sku, title=title)
        for warehouse, on_hand in stock.items():
            emulator.sim.set_stock(warehouse, sku, on_hand)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def winit_provider(winit_emulator, redis_conn):
    return WinitProvider(winit_credentials(), redis=redis_conn, account_key="test", endpoint=winit_emulator.url)
