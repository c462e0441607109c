"""Fixtures of the goodcang emulator.

``goodcang_emulator``: a running :class:`sandbox.warehouses.goodcang.GoodcangEmulator` (app-key
``GOODCANG_APP_KEY``, app-token ``GOODCANG_APP_TOKEN``, warehouses USEA (US) and DE, the SKUs of
``GOODCANG_STOCK`` with that stock, clock started on a whole second), stopped at teardown.
``make_goodcang_emulator(**kwargs)``: the same with other constructor arguments.
``goodcang_provider``: a :class:`connectors.warehouses.goodcang.GoodcangProvider` pointed at it
(real Redis rate limit, account_key ``"test"``). ``make_goodcang_provider(emulator, **kwargs)``:
another provider (other credentials, session, ``on_call``…) for the same or another emulator.
"""

from __future__ import annotations

import time

import pytest

from connectors.warehouses.goodcang import GoodcangProvider
from sandbox.warehouses.goodcang import GoodcangEmulator

GOODCANG_APP_KEY = "gc-test-app-key"
GOODCANG_APP_TOKEN = "gc-test-app-token"
GOODCANG_WAREHOUSES = {"USEA": "US", "DE": "DE"}
# warehouse -> sku -> on hand
GOODCANG_STOCK = {"USEA": {"MUG-BLUE": 50, "TEE-M": 20, "CAP-RED": 5},
                  "DE": {"MUG-BLUE": 30, "TEE-M": 10, "CAP-RED": 0}}


@pytest.fixture
def make_goodcang_emulator():
    started: list[GoodcangEmulator] = []

    def make(**kwargs) -> GoodcangEmulator:
        kwargs.setdefault("warehouses", dict(GOODCANG_WAREHOUSES))
        kwargs.setdefault("seed", 20240311)
        kwargs.setdefault("start", float(int(time.time())))
        emulator = GoodcangEmulator(GOODCANG_APP_KEY, GOODCANG_APP_TOKEN, **kwargs)
        for warehouse, skus in GOODCANG_STOCK.items():
            if warehouse not in emulator.sim.warehouses:
                continue
            for sku, quantity in skus.items():
                emulator.sim.add_sku(sku, title=sku.replace("-", " ").title())
                emulator.sim.set_stock(warehouse, sku, quantity)
        emulator.start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def goodcang_emulator(make_goodcang_emulator) -> GoodcangEmulator:
    return make_goodcang_emulator()


@pytest.fixture
def make_goodcang_provider(redis_conn):
    def make(emulator: GoodcangEmulator, **kwargs) -> GoodcangProvider:
        credentials = kwargs.pop("credentials", {"app_key": GOODCANG_APP_KEY, "app_token": GOODCANG_APP_TOKEN})
        kwargs.setdefault("account_key", "test")
        kwargs.setdefault("endpoint", emulator.endpoint)
        return GoodcangProvider(credentials, redis=redis_conn, **kwargs)

    return make


@pytest.fixture
def goodcang_provider(goodcang_emulator, make_goodcang_provider) -> GoodcangProvider:
    return make_goodcang_provider(goodcang_emulator)
