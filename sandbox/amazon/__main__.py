"""Run the Amazon SP-API emulator for local demos.

    python -m sandbox.amazon --port 8002 --client-id ID --client-secret S --refresh-token Atzr|R \
        --seller-id A2DEMO --marketplaces A1PA6795UKMFR9,A13V1IB3VIYZZH --orders 30

Point the connector at it with ``endpoint=http://127.0.0.1:8002`` and
``token_url=http://127.0.0.1:8002/auth/o2/token``.
"""

from __future__ import annotations

import argparse
import signal
import threading

from .emulator import AmazonEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.amazon")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--client-id", default="amzn1.application-oa2-client.demo")
    parser.add_argument("--client-secret", default="demo-secret")
    parser.add_argument("--refresh-token", default="Atzr|demo-refresh-token")
    parser.add_argument("--seller-id", default="A2NEARSTOCKDEMO")
    parser.add_argument("--marketplaces", default="A1PA6795UKMFR9,A13V1IB3VIYZZH")
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--skus", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    emulator = AmazonEmulator(args.client_id, args.client_secret, args.refresh_token, seller_id=args.seller_id,
                              marketplaces=args.marketplaces.split(","), seed=args.seed, fault_rate=args.fault_rate,
                              orders=args.orders, skus=args.skus)
    emulator.start(port=args.port)
    print(f"Amazon SP-API emulator on {emulator.url} (LWA: {emulator.token_url})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
