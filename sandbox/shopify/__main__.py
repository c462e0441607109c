"""Run the Shopify emulator for local demos.

    python -m sandbox.shopify --port 8001 --api-key K --api-secret S \
        --app-url http://127.0.0.1:8000 --seed-demo

The app's webhook subscriptions are read from shopify.app.toml (``--app-config``), as Shopify
holds them after ``shopify app deploy``, and delivered to ``--app-url`` for every shop the app is
installed on.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time

from .admin_frame import admin_url
from .app_config import PROJECT_TOML, AppConfig, AppConfigError
from .emulator import ShopifyEmulator

DEMO_SHOP = "nearstock-demo.myshopify.com"


def seed_demo(emulator: ShopifyEmulator, shop: str = DEMO_SHOP) -> dict:
    emulator.add_shop(shop, currency="EUR", country="DE", name="Nearstock Demo")
    berlin = emulator.add_location(shop, "Berlin warehouse", "DE", city="Berlin", zip="10115")
    paris = emulator.add_location(shop, "Paris warehouse", "FR", city="Paris", zip="75001")
    la = emulator.add_location(shop, "Los Angeles warehouse", "US", city="Los Angeles",
                               zip="90001")
    emulator.add_product(shop, "Merino Hoodie", [
        {"sku": "HOODIE-S", "title": "S", "barcode": "4006381333931", "price": "79.00",
         "quantities": {berlin: 12, paris: 3, la: 0}},
        {"sku": "HOODIE-M", "title": "M", "barcode": "4006381333948", "price": "79.00",
         "quantities": {berlin: 7, paris: 0, la: 25}},
    ])
    emulator.add_product(shop, "Trail Bottle", [
        {"sku": "BOTTLE-1L", "title": "1 L", "price": "24.50",
         "quantities": {berlin: 40, paris: 18, la: 9}},
    ])
    emulator.add_order(shop, line_items=[{"sku": "HOODIE-S", "quantity": 1}],
                       shipping_address={"firstName": "Lena", "lastName": "Vogel",
                                         "address1": "Torstrasse 1", "city": "Berlin",
                                         "zip": "10119", "countryCodeV2": "DE"},
                       email="lena@example.com", locale="de")
    return {"shop": shop, "locations": [berlin, paris, la]}


def number_new_objects_by_start_time(emulator: ShopifyEmulator) -> None:
    """The seeded shops keep their ids from one start to the next; orders and everything else made
    while running are numbered from the start time (in milliseconds, 13 digits like Shopify's), so
    that after a restart nothing new takes the id of something an app kept from the last run."""
    emulator.store.continue_ids_from(int(time.time() * 1000))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.shopify", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--app-url", default=None)
    parser.add_argument("--app-config", default=str(PROJECT_TOML),
                        help="the app's shopify.app.toml (default: the project's)")
    parser.add_argument("--restore-rate", type=float, default=100.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--seed-demo", action="store_true")
    parser.add_argument("--shop", action="append", default=[],
                        help="add an empty shop (repeatable)")
    args = parser.parse_args(argv)
    try:
        app_config = AppConfig.load(args.app_config)
    except AppConfigError as exc:
        parser.error(str(exc))
    if app_config.relative and not args.app_url:
        parser.error("--app-url is required: the app configuration has webhook addresses relative to it")
    emulator = ShopifyEmulator(args.api_key, args.api_secret, app_url=args.app_url,
                               restore_rate=args.restore_rate, fault_rate=args.fault_rate,
                               app_config=app_config)
    for shop in args.shop:
        emulator.add_shop(shop)
    if args.seed_demo:
        seed_demo(emulator)
    number_new_objects_by_start_time(emulator)
    emulator.start(args.host, args.port)
    print(f"Shopify emulator on {emulator.url} (shops: {', '.join(emulator.store.shops)})",
          flush=True)
    for shop in emulator.store.shops:
        print(f"  admin of {shop}: {admin_url(emulator, shop)}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
