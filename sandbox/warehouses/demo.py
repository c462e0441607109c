"""The warehouse emulators with demo accounts, as ``make run`` and ``python -m sandbox.warehouses``
start them: one WINIT, one Goodcang and one ShipBob account, each vendor on its own loopback port
(its API exactly as the connectors meet it), stocked with the demo shop's SKUs — WINIT and Goodcang
in Germany and France, ShipBob in the United States — plus the control server
(:mod:`sandbox.warehouses.control`) that moves their clocks and parcels.

    sandbox = WarehouseSandbox().start()
    sandbox.settings()     # what the app gets as WAREHOUSE_SANDBOX: endpoints and demo credentials
    sandbox.control_url    # the control page
    sandbox.stop()

The credentials are fixed (they open emulators on this machine only), so an account connected in
the app keeps authenticating after a restart; the emulators' state (orders, stock moves) does not
survive one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.server import ServerThread, serve
from sandbox.warehouses.goodcang import GoodcangEmulator
from sandbox.warehouses.shipbob import DEFAULT_CENTERS, DEFAULT_SECRET, ShipBobEmulator
from sandbox.warehouses.sim import WarehouseSim
from sandbox.warehouses.winit import WinitEmulator

# The demo shop's SKUs (sandbox.shopify.__main__.seed_demo) and their titles.
DEMO_SKUS = {"HOODIE-S": "Merino Hoodie S", "HOODIE-M": "Merino Hoodie M", "BOTTLE-1L": "Trail Bottle 1 L"}

WINIT_ACCOUNT = {"app_key": "warehouse-demo@acme.example", "token": "5D41402ABC4B2A76B9719D911017C592",
                 "platform": "NEARSTOCK", "inbound_product_code": "WINIT-DW", "return_product_code": "RTN-STD"}
# WINIT codes start with the country (DE0001), which is how the connector reads a warehouse's country.
WINIT_STOCK = {"DE0001": ("DE", {"HOODIE-S": 25, "HOODIE-M": 18, "BOTTLE-1L": 60}),
               "FR0001": ("FR", {"HOODIE-S": 10, "HOODIE-M": 3, "BOTTLE-1L": 30})}

GOODCANG_ACCOUNT = {"app_key": "demo-goodcang-app-key", "app_token": "demo-goodcang-app-token"}
GOODCANG_STOCK = {"DE": ("DE", {"HOODIE-S": 8, "HOODIE-M": 12, "BOTTLE-1L": 20}),
                  "FRVI": ("FR", {"HOODIE-S": 15, "HOODIE-M": 0, "BOTTLE-1L": 25})}

SHIPBOB_CHANNEL = 100102
SHIPBOB_ACCOUNT = {"token": "pat-demo-shipbob-0123456789abcdef", "channel_id": str(SHIPBOB_CHANNEL),
                   "webhook_secret": DEFAULT_SECRET}
SHIPBOB_STOCK = {10: {"HOODIE-S": 30, "HOODIE-M": 40, "BOTTLE-1L": 12},  # Cicero (IL)
                 22: {"HOODIE-S": 5, "HOODIE-M": 20, "BOTTLE-1L": 0}}  # Moreno Valley (CA)

LABELS = {"winit": "WINIT", "goodcang": "Goodcang", "shipbob": "ShipBob"}


@dataclass
class Vendor:
    """One running emulator as the control server sees it."""

    name: str
    label: str
    emulator: WinitEmulator | GoodcangEmulator | ShipBobEmulator
    credentials: dict[str, str]

    @property
    def sim(self) -> WarehouseSim:
        return self.emulator.sim

    @property
    def endpoint(self) -> str:
        """The base URL a connector is configured with."""
        if isinstance(self.emulator, GoodcangEmulator):
            return self.emulator.endpoint
        return self.emulator.url


def build_vendors(*, seed: int | None = 1) -> dict[str, Vendor]:
    """The three demo accounts, seeded, not yet serving."""
    winit = WinitEmulator(WINIT_ACCOUNT["app_key"], WINIT_ACCOUNT["token"], platform=WINIT_ACCOUNT["platform"],
                          warehouses={code: country for code, (country, _) in WINIT_STOCK.items()}, seed=seed)
    goodcang = GoodcangEmulator(GOODCANG_ACCOUNT["app_key"], GOODCANG_ACCOUNT["app_token"], seed=seed,
                                warehouses={code: country for code, (country, _) in GOODCANG_STOCK.items()})
    for emulator, stock in ((winit, WINIT_STOCK), (goodcang, GOODCANG_STOCK)):
        for sku, title in DEMO_SKUS.items():
            emulator.sim.add_sku(sku, title=title)
        for warehouse, (_country, levels) in stock.items():
            for sku, on_hand in levels.items():
                emulator.sim.set_stock(warehouse, sku, on_hand)
    shipbob = ShipBobEmulator(SHIPBOB_ACCOUNT["token"], channel_id=SHIPBOB_CHANNEL, seed=seed,
                              fulfillment_centers={fc: DEFAULT_CENTERS[fc] for fc in SHIPBOB_STOCK})
    for sku, title in DEMO_SKUS.items():
        shipbob.add_product(sku, title)
    for fc_id, levels in SHIPBOB_STOCK.items():
        for sku, on_hand in levels.items():
            shipbob.set_stock(fc_id, sku, on_hand)
    return {"winit": Vendor("winit", LABELS["winit"], winit, dict(WINIT_ACCOUNT)),
            "goodcang": Vendor("goodcang", LABELS["goodcang"], goodcang, dict(GOODCANG_ACCOUNT)),
            "shipbob": Vendor("shipbob", LABELS["shipbob"], shipbob, dict(SHIPBOB_ACCOUNT))}


class WarehouseSandbox:
    """The three demo emulators and their control server. ``clock_speed``: simulated seconds per
    real second of every warehouse's clock (1.0 follows real time, 0 only moves when told)."""

    def __init__(self, *, seed: int | None = 1, clock_speed: float = 1.0) -> None:
        self.vendors = build_vendors(seed=seed)
        self.clock_speed = clock_speed
        self._control: ServerThread | None = None

    def start(self, port: int = 0) -> WarehouseSandbox:
        """Serve on loopback: the control server on ``port`` and the vendors on the three ports
        after it (``port`` 0: any free ports)."""
        from sandbox.warehouses.control import create_control_app

        for offset, vendor in enumerate(self.vendors.values(), 1):
            vendor.emulator.start(port=port + offset if port else 0)
            if self.clock_speed > 0:
                vendor.sim.run_clock(self.clock_speed)
        self._control = serve(create_control_app(self), port=port)
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.shutdown()
            self._control = None
        for vendor in self.vendors.values():
            vendor.emulator.stop()

    @property
    def control_url(self) -> str:
        if self._control is None:
            raise RuntimeError("WarehouseSandbox not started")
        return self._control.url + "/"

    def accounts(self) -> dict[str, dict]:
        return {name: {"endpoint": v.endpoint, "credentials": dict(v.credentials)} for name, v in self.vendors.items()}

    def settings(self) -> dict:
        """What the app reads from ``WAREHOUSE_SANDBOX`` (integration.config): the control page and
        each vendor's endpoint and demo credentials."""
        return {"control_url": self.control_url, "accounts": self.accounts()}
