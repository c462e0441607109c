"""Fixtures of the ShipBob emulator and connector.

``shipbob_emulator``: a running :class:`sandbox.warehouses.shipbob.ShipBobEmulator` (token
``SHIPBOB_TOKEN``, channel ``SHIPBOB_CHANNEL``, the default fulfillment centers 10 Cicero US,
22 Moreno Valley US, 87 Venlo NL), stopped at teardown. ``make_shipbob_emulator(**kwargs)``: the
same with other constructor arguments (a small rate window, faults, an ``app_webhook_url``…).
``shipbob_provider``: a :class:`connectors.warehouses.shipbob.ShipBobProvider` pointed at it, with
the real Redis of ``redis_conn`` and account key ``"test"``; ``make_shipbob_provider(emulator,
**kwargs)`` builds more (another session, credentials, ``on_call``).
"""

from __future__ import annotations

import pytest

from connectors.warehouses.shipbob import ShipBobProvider
from sandbox.warehouses.shipbob import DEFAULT_SECRET, ShipBobEmulator

SHIPBOB_TOKEN = "pat-test-shipbob-0123456789"
SHIPBOB_CHANNEL = 100102
TIME_SCALE = 10.0


@pytest.fixture
def make_shipbob_emulator():
    started: list[ShipBobEmulator] = []

    def make(**kwargs) -> ShipBobEmulator:
        kwargs.setdefault("seed", 4321)
        kwargs.setdefault("channel_id", SHIPBOB_CHANNEL)
        kwargs.setdefault("rate_window_s", 60.0 / TIME_SCALE)
        emulator = ShipBobEmulator(SHIPBOB_TOKEN, **kwargs).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def shipbob_emulator(make_shipbob_emulator) -> ShipBobEmulator:
    return make_shipbob_emulator()


@pytest.fixture
def make_shipbob_provider(redis_conn):
    def make(emulator: ShipBobEmulator, *, credentials: dict | None = None, **kwargs) -> ShipBobProvider:
        creds = {"token": SHIPBOB_TOKEN, "channel_id": str(SHIPBOB_CHANNEL),
                 "webhook_secret": emulator.webhook_secret or DEFAULT_SECRET}
        creds.update(credentials or {})
        kwargs.setdefault("account_key", "test")
        provider = ShipBobProvider(creds, redis=redis_conn, endpoint=emulator.url, **kwargs)
        # Same budget relation as production, on the emulator's (faster) clock.
        scale = 60.0 / emulator.limiter.window
        provider.limiter.set_rate(ShipBobProvider.rate_per_second * scale, ShipBobProvider.burst)
        return provider

    return make


@pytest.fixture
def shipbob_provider(shipbob_emulator, make_shipbob_provider) -> ShipBobProvider:
    return make_shipbob_provider(shipbob_emulator)
