"""`make run` on the embedded defaults serves /healthz on loopback only, logs each request as a
structured line without its query string, runs CLI-enqueued jobs, and Ctrl-C stops every process it
started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp_path, port):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "NEARSTOCK_ENV", "SMTP_URL", "APP_URL"}
           and not k.startswith(("SHOPIFY_", "TEST_"))}
    env.update(NEARSTOCK_INSTANCE_PATH=str(tmp_path / "instance"), PORT=str(port))
    return env


def wait_for_line(path: Path, text: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return False


def test_make_run_serves_health_and_runs_jobs(tmp_path):
    port = free_port()
    env = clean_env(tmp_path, port)
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        body = None
        while time.monotonic() < deadline:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                body = r.json()
                if r.status_code == 200 and body["workers"]["count"] >= 1:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        assert body and body["status"] == "ok", (tmp_path / "run.log").read_text()[-3000:]
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
        assert "gunicorn" in names and "jobs.worker" in names and "rq cron" in names.replace("/rq ", "rq ")
    finally:
        children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does to the foreground process group
        proc.wait(timeout=60)
        log.close()
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"still running after Ctrl-C: {[p.pid for p in alive]}"
    assert "Nearstock stopped." in (tmp_path / "run.log").read_text()
