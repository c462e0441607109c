"""Serve the sandbox storefront: product pages with the stock status block, and the app proxy.

    python -m sandbox.storefront [--port 8002] [--shop nearstock-demo.myshopify.com]

``make run`` starts one itself (it prints the URL). On its own, it reads the app's configuration
(the same environment as ``make run``: the app URL its proxy requests go to, signed with the app
secret) and serves the products of:

* the Shopify stand-in at ``SHOPIFY_ENDPOINT`` when that is set, read over the Admin API with the
  token the app holds for the installed shop (install the app first);
* otherwise a Shopify emulator of its own, in this process, seeded with the demo shop (the one
  ``make run`` seeds, so its ids are the same). The block asks the app at ``APP_URL`` (default
  ``http://127.0.0.1:8000``) for the live status.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from sqlalchemy import select


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.storefront", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--shop", default=None, help="shop domain (default: the first installed shop, or the demo "
                                                     "shop of the storefront's own emulator)")
    parser.add_argument("--country", default="DE", help="default market")
    args = parser.parse_args(argv)
    os.environ.setdefault("NEARSTOCK_ENV", "development")

    from integration.config import Config, ConfigError
    from sandbox.storefront import Storefront

    try:
        config = Config.from_env()
    except ConfigError as exc:
        parser.error(str(exc))
    emulator = None
    if config.shopify_endpoint:
        catalog, domain = _installed_shop_catalog(parser, config, args.shop)
    else:
        from sandbox.shopify.__main__ import DEMO_SHOP, seed_demo
        from sandbox.shopify.emulator import ShopifyEmulator
        from sandbox.storefront import EmulatorCatalog

        domain = args.shop or DEMO_SHOP
        # Only read in this process (no HTTP, no webhooks): the storefront's own copy of the shop.
        emulator = ShopifyEmulator(config.shopify_api_key, config.shopify_api_secret)
        try:
            seed_demo(emulator, domain)
        except ValueError as exc:
            parser.error(str(exc))
        catalog = EmulatorCatalog(emulator, domain)
    front = Storefront(catalog, app_url=config.app_url, api_secret=config.shopify_api_secret, shop_domain=domain,
                       default_country=args.country).start(args.host, args.port)
    print(f"Sandbox storefront of {domain} on {front.url} (app proxy -> {config.app_url}/proxy)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        front.stop()
        if emulator is not None:
            emulator.stop()


def _installed_shop_catalog(parser, config, shop_domain: str | None):
    from integration import create_app
    from integration.extensions import db
    from integration.models import Shop, ShopStatus
    from sandbox.storefront import GraphQLCatalog

    app = create_app(config)
    with app.app_context():
        query = select(Shop).where(Shop.status == ShopStatus.INSTALLED).order_by(Shop.id)
        if shop_domain:
            query = query.where(Shop.domain == shop_domain)
        shop = db.session.execute(query).scalars().first()
        if shop is None or not shop.access_token:
            parser.error("no installed shop with a token: install the app first (see make run's output)")
        catalog = GraphQLCatalog(config.shopify_endpoint, shop.domain, shop.access_token,
                                 shop_name=shop.name or shop.domain, currency=shop.currency or "EUR")
        return catalog, shop.domain


if __name__ == "__main__":
    main()
