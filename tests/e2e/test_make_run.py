"""`make run` on the embedded defaults serves /healthz on loopback only, logs each request as a
structured line without its query string, runs CLI-enqueued jobs, and Ctrl-C stops every process it
started. Every process it starts agrees on the web's public URL: the webhooks of the demo shop's
install reach the web process, and so do the storefront's app proxy requests. It runs in demo mode
and prints one address to open, the start page. (The whole newcomer loop from there, in a browser:
test_newcomer_loop.py.)"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest
import requests

from integration.config import Config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp_path, port):
    """A developer's shell: none of the settings make run works out itself (vendors, URLs, demo mode)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "NEARSTOCK_ENV", "SMTP_URL", "APP_URL", "NEARSTOCK_CRON_SPEEDUP"}
           and not k.startswith(("SHOPIFY_", "TEST_", "AMAZON_", "WAREHOUSE_"))}
    env.update(NEARSTOCK_INSTANCE_PATH=str(tmp_path / "instance"), PORT=str(port))
    return env


def wait_for_line(path: Path, text: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return False


class MakeRun:
    """``make run`` in its own process group (in ``cwd``, the checkout); ``stop()`` is Ctrl-C (and
    remembers the children)."""

    def __init__(self, tmp_path: Path, port: int, cwd: Path = ROOT) -> None:
        self.port, self.log_path = port, tmp_path / "run.log"
        self.env = clean_env(tmp_path, port)
        self.children: list[psutil.Process] = []
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["make", "run"], cwd=cwd, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match:
        """The first match of ``pattern`` in the output, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found
            assert self.proc.poll() is None, self.output()[-3000:]
            time.sleep(0.3)
        raise AssertionError(f"no {pattern!r} in make run's output:\n{self.output()[-3000:]}")

    def wait_healthy(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            try:
                r = requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                body = r.json()
                if r.status_code == 200 and body["workers"]["count"] >= 1:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        assert body and body["status"] == "ok", self.output()[-3000:]
        return body

    def stop(self) -> None:
        self.children = psutil.Process(self.proc.pid).children(recursive=True) if self.proc.poll() is None else []
        os.killpg(self.proc.pid, signal.SIGINT)  # what Ctrl-C does to the foreground process group
        self.proc.wait(timeout=60)
        self._log.close()


@contextlib.contextmanager
def make_run(tmp_path: Path):
    run = MakeRun(tmp_path, free_port())
    try:
        yield run
    finally:
        run.stop()


def test_make_run_serves_health_and_runs_jobs(tmp_path):
    with make_run(tmp_path) as run:
        port, env, proc = run.port, run.env, run.proc
        body = run.wait_healthy()
        assert body["database"]["dialect"] == "sqlite"
        assert (tmp_path / "instance" / "nearstock.sqlite3").exists()
        assert (tmp_path / "instance" / "outbox").is_dir()
        output = (tmp_path / "run.log").read_text()
        assert f"http://127.0.0.1:{port}" in output

        requests.get(f"http://127.0.0.1:{port}/healthz?email=ada%40example.com",
                     headers={"X-Request-Id": "make-run-access-1"}, timeout=5)
        assert wait_for_line(tmp_path / "run.log", "request_id=make-run-access-1"), output[-3000:]
        [access] = [line for line in (tmp_path / "run.log").read_text().splitlines()
                    if "request_id=make-run-access-1" in line]
        assert all(f in access for f in ("http.request", "method=GET", "path=/healthz", "status=200", "duration_ms="))
        assert "email" not in access
        web = [c for c in psutil.Process(proc.pid).children(recursive=True) if "gunicorn" in " ".join(c.cmdline())]
        listening = {conn.laddr for c in web for conn in c.net_connections("tcp") if conn.status == psutil.CONN_LISTEN}
        assert listening and {address.ip for address in listening} == {"127.0.0.1"}

        cli_env = dict(env, NEARSTOCK_ENV="development")
        flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "integration", "jobs"]
        job_id = subprocess.run([*flask, "enqueue", "jobs.events.sweep_stale_events"], cwd=ROOT,
                                env=cli_env, capture_output=True, text=True, check=True).stdout.strip()
        status = {}
        for _ in range(60):
            out = subprocess.run([*flask, "status", job_id], cwd=ROOT, env=cli_env,
                                 capture_output=True, text=True, check=True).stdout
            status = json.loads(out)
            if status["status"] == "finished":
                break
            time.sleep(0.5)
        assert status["status"] == "finished" and status["result"] == 0
        # The job ran in a worker process; the web process's /metrics shows it (one metrics
        # directory for every process of make run).
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'nearstock_job_runs_total{job="jobs.events.sweep_stale_events",outcome="succeeded"}' in metrics

        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "gunicorn" in names and "jobs.worker" in names and "jobs.cron_runner" in names
    _gone, alive = psutil.wait_procs(run.children, timeout=30)
    assert alive == [], f"still running after Ctrl-C: {[p.pid for p in alive]}"
    assert "Nearstock stopped." in (tmp_path / "run.log").read_text()


def poll(query: str, args: tuple, database: Path, timeout: float = 90):
    """The first row ``query`` finds in make run's SQLite database, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute(query, args).fetchone()
        if row is not None:
            return row
        time.sleep(0.5)
    return None


def test_every_process_uses_the_web_address(tmp_path):
    """The worker starts the demo shop's catalog import; Shopify's bulk_operations/finish for it
    (an app webhook of shopify.app.toml) reaches the web process's inbox, not a worker's PORT. The
    shop's name is read by a worker, and the storefront's proxy requests reach the web too."""
    shop = "nearstock-demo.myshopify.com"
    with make_run(tmp_path) as run:
        run.wait_healthy()
        output = run.output()
        app_url = f"http://127.0.0.1:{run.port}"
        install = re.search(r"install the demo shop \(link valid 5 minutes\): (\S+)", output)
        storefront = re.search(r"storefront: (\S+)/ ", output)
        assert install and storefront, output[-3000:]
        assert install.group(1).startswith(app_url + "/auth/install?")
        # honcho gives each process its own PORT; all of them read the web's URL.
        processes = [c for c in psutil.Process(run.proc.pid).children(recursive=True)
                     if re.search(r"gunicorn|jobs\.worker|jobs\.cron_runner", " ".join(c.cmdline()))]
        environs = [c.environ() for c in processes]
        assert len({e["PORT"] for e in environs}) >= 4  # web, worker, notify, cron
        assert {Config.from_env(e).app_url for e in environs} == {app_url}
        # Demo mode for all of them, and the demo store's storefront for the start page.
        assert {Config.from_env(e).cron_speedup for e in environs} == {10}
        assert {Config.from_env(e).shopify_sandbox["storefront_url"] for e in environs} == {storefront.group(1)}
        # The one address to open, printed once the web answers.
        run.wait_for(rf"Open http://127\.0\.0\.1:{run.port}/start\n", timeout=60)
        assert requests.get(f"{app_url}/start", timeout=10).status_code == 200

        # The merchant follows the link: our install, Shopify's consent (approved), our callback,
        # which opens the app in the store's (local) admin.
        browser = requests.Session()
        opened = browser.get(install.group(1), timeout=30)
        assert opened.status_code == 200 and urlparse(opened.url).path.startswith("/store/nearstock-demo/apps/"), \
            opened.url
        assert [urlparse(r.url).path for r in opened.history] == [
            "/auth/install", "/admin/oauth/authorize", "/auth/callback"]

        database = tmp_path / "instance" / "nearstock.sqlite3"
        finished = poll("SELECT status FROM webhook_events WHERE topic = 'bulk_operations/finish' "
                        "AND shop_domain = ?", (shop,), database)
        assert finished is not None, run.output()[-3000:]
        named = poll("SELECT name FROM shops WHERE domain = ? AND name IS NOT NULL", (shop,), database)
        assert named == ("Nearstock Demo",), run.output()[-3000:]

        # The storefront shows the shop's name and the stock block, whose live refresh goes
        # through the app proxy to the web process (signed, for an installed shop).
        page = requests.get(storefront.group(1) + "/products/merino-hoodie", timeout=10)
        assert page.status_code == 200 and "Nearstock Demo" in page.text and "data-nearstock" in page.text
        variant = re.search(r'data-variant="(\d+)"', page.text).group(1)
        live = requests.get(f"{storefront.group(1)}/apps/nearstock/stock",
                            params={"variant_id": variant, "country": "DE"}, timeout=10)
        # No warehouse connected yet, so no status: the app says so (not 401/403: signed, installed).
        assert live.status_code in (200, 404), live.text
        assert live.status_code == 200 or live.json()["error"]["code"] == "unknown_variant"
