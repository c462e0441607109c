"""Serve the sandbox storefront next to a running Nearstock (``make run``):

    python -m sandbox.storefront [--port 8002] [--shop nearstock-demo.myshopify.com]

Reads the app's own configuration (the same environment as ``make run``): the app URL its proxy
requests go to, the app secret they are signed with, the Shopify endpoint (the emulator ``make
run`` starts) and, from the app's database, the installed shop and its access token, with which
the products and their metafields are read over the Admin API. Install the app on the demo shop
first (the link ``make run`` prints); then open ``http://127.0.0.1:8002/``.
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
    parser.add_argument("--shop", default=None, help="shop domain (default: the first installed shop)")
    parser.add_argument("--country", default="DE", help="default market")
    args = parser.parse_args(argv)
    os.environ.setdefault("NEARSTOCK_ENV", "development")

    from integration import create_app
    from integration.extensions import db
    from integration.models import Shop, ShopStatus
    from sandbox.storefront import GraphQLCatalog, Storefront

    app = create_app()
    config = app.config["NEARSTOCK"]
    if not config.shopify_endpoint:
        parser.error("SHOPIFY_ENDPOINT is not set: the sandbox storefront reads the Shopify emulator")
    with app.app_context():
        query = select(Shop).where(Shop.status == ShopStatus.INSTALLED).order_by(Shop.id)
        if args.shop:
            query = query.where(Shop.domain == args.shop)
        shop = db.session.execute(query).scalars().first()
        if shop is None or not shop.access_token:
            parser.error("no installed shop with a token: install the app first (see make run's output)")
        catalog = GraphQLCatalog(config.shopify_endpoint, shop.domain, shop.access_token,
                                 shop_name=shop.name or shop.domain, currency=shop.currency or "EUR")
        domain = shop.domain
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


if __name__ == "__main__":
    main()
