"""Run the WINIT, Goodcang and ShipBob emulators with their demo accounts, and the control page.

    python -m sandbox.warehouses                 # control page on 8010, vendors on 8011-8013
    python -m sandbox.warehouses --port 0        # any free ports
    python -m sandbox.warehouses --clock-speed 60

It prints each vendor's endpoint and demo credentials, and the ``WAREHOUSE_SANDBOX`` value that
hands them to the app (``make run`` starts this itself when ``WAREHOUSE_SANDBOX`` is not set).
Everything listens on loopback only; Ctrl-C stops it, and its state (orders, stock moves) goes
with it.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import signal
import threading

from sandbox.warehouses.demo import WarehouseSandbox


def describe(sandbox: WarehouseSandbox) -> list[str]:
    """What to print: the control page, each demo account, and the line to give the app."""
    lines = [f"Warehouse emulators (demo accounts; state in memory). Control page: {sandbox.control_url}"]
    for vendor in sandbox.vendors.values():
        creds = " ".join(f"{key}={value}" for key, value in vendor.credentials.items())
        lines.append(f"  {vendor.label:<9} {vendor.endpoint}  {creds}")
        lines.append(f"            warehouses: {', '.join(f'{c} ({cc})' for c, cc in vendor.sim.warehouses.items())}")
    lines.append("For the app (development only): export WAREHOUSE_SANDBOX="
                 + shlex.quote(json.dumps(sandbox.settings(), separators=(",", ":"))))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.warehouses", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8010,
                        help="the control page's port; the vendors take the next three (0: any free ports)")
    parser.add_argument("--clock-speed", type=float, default=1.0,
                        help="simulated seconds per real second (1: real time, 0: only the control page moves it)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65532:
        parser.error("--port must be 0 or a port number that leaves room for three more")
    if not 0 <= args.clock_speed <= 86400:
        parser.error("--clock-speed must be between 0 and 86400")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sandbox = WarehouseSandbox(seed=args.seed, clock_speed=args.clock_speed).start(args.port)
    print("\n".join(describe(sandbox)), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()


if __name__ == "__main__":
    main()
