"""/metrics under Docker Compose: one volume shared by every container, a directory per container
(process ids repeat across containers), one scrape summing them all, and the directories of
containers that are gone removed when the web starts. Real prometheus_client files, written by
separate processes; real locks held by running processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integration import create_app, metrics_files
from integration.config import PROJECT_ROOT, ConfigError
from integration.extensions import db
from tests.conftest import make_config
from tests.web.test_metrics import RECORD_IN_ANOTHER_PROCESS, sample, scrape

# A container's process: holds its directory's lease (as create_app does), records samples, and
# runs until its stdin closes; with FORK, its forked child outlives it and holds the lease on.
CONTAINER_PROCESS = """
import os, sys
from pathlib import Path
from integration.metrics_files import hold_lease
hold_lease(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
""" + RECORD_IN_ANOTHER_PROCESS + """
if os.environ["FORK"] and os.fork() == 0:
    sys.stdin.read()
    os._exit(0)
print("ready", flush=True)
if not os.environ["FORK"]:
    sys.stdin.read()
"""


def container(directory: Path, fork: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "FORK": "1" if fork else ""}
    proc = subprocess.Popen([sys.executable, "-c", CONTAINER_PROCESS], cwd=PROJECT_ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


def test_one_scrape_sums_the_directories_of_every_container(tmp_path, database_url, redis_url, redis_conn):
    shared = tmp_path / "shared"
    for host in ("worker-1a2b", "notify-3c4d"):
        stop(container(shared / host))
        # Each container's main process is its pid 1: the same file names in both directories.
        for path in (shared / host).glob("*.db"):
            path.rename(path.with_name(f"{path.stem.rpartition('_')[0]}_1.db"))
    assert sorted(p.name for p in (shared / "worker-1a2b").glob("*.db")) == ["counter_1.db", "histogram_1.db"]

    app = create_app(make_config(tmp_path, database_url, redis_url, METRICS_SHARED_DIR=str(shared),
                                 PROMETHEUS_MULTIPROC_DIR=str(shared / "web-5e6f")))
    with app.app_context():
        text = scrape(app.test_client())
        db.session.remove()
    assert sample(text, "nearstock_job_runs_total", job="jobs.test.work", outcome="succeeded") == 2
    assert sample(text, "nearstock_job_duration_seconds_count", job="jobs.test.work") == 2
    assert sample(text, "nearstock_vendor_calls_total", vendor="goodcang", operation="getInventory", status="200",
                  outcome="ok") == 2
    assert sample(text, "nearstock_queue_depth", queue="events") == 0  # scrape-time gauges are there too
    assert (shared / "web-5e6f" / metrics_files.LEASE).exists()  # the web's own directory, leased


def test_the_web_removes_the_directories_of_gone_containers_only(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    for name, value in (("NEARSTOCK_ENV", "testing"), ("NEARSTOCK_INSTANCE_PATH", str(tmp_path / "instance")),
                        ("METRICS_SHARED_DIR", str(shared)), ("PROMETHEUS_MULTIPROC_DIR", str(shared / "web"))):
        monkeypatch.setenv(name, value)
    running = container(shared / "running")
    forked = container(shared / "forked", fork=True)
    forked.wait(timeout=30)  # its parent is gone, its child holds the lease
    stop(container(shared / "gone"))
    (shared / "starting").mkdir()  # created a moment ago, its lease not taken yet
    # A dead pid in another container's directory may be alive there: only the own one is judged.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (shared / "running" / f"counter_{dead.pid}.db").write_bytes(b"")
    try:
        metrics_files.on_starting(server=None)
        assert sorted(p.name for p in shared.iterdir()) == ["forked", "running", "starting", "web"]
        assert (shared / "running" / f"counter_{dead.pid}.db").exists()
        forked.stdin.close()  # the child reads the stdin it inherited: it ends too
        for _ in range(100):
            if metrics_files.remove_dead_hosts(shared):
                break
            time.sleep(0.05)
        assert sorted(p.name for p in shared.iterdir()) == ["running", "starting", "web"]
    finally:
        stop(running)


@pytest.mark.parametrize("multiproc_dir", [None, "elsewhere/web", "shared/web/deeper"])
def test_a_shared_directory_needs_a_host_directory_right_inside_it(tmp_path, multiproc_dir):
    env = {"METRICS_SHARED_DIR": str(tmp_path / "shared")}
    if multiproc_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / multiproc_dir)
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        make_config(tmp_path, "sqlite://", "redis://", **env)
