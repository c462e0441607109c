"""Metrics under Docker Compose: web, worker, notify and cron share one metrics volume, each
container writing in a directory of its own that the entrypoint names after its hostname, so web's
/metrics sums the jobs and vendor calls of every container (tests/web/test_metrics_shared.py)."""

from __future__ import annotations

import os
import re
import subprocess

from integration.config import PROJECT_ROOT
from tests.unit.test_deploy_files import ENTRYPOINT, app_services, compose


def test_every_process_container_mounts_the_shared_metrics_volume():
    services = app_services()
    for name in ("web", "worker", "notify", "cron"):
        env = services[name]["environment"]
        shared = env["METRICS_SHARED_DIR"]
        assert f"metrics:{shared}" in services[name]["volumes"], name
        # Not one directory for all: the entrypoint gives each container its own.
        assert "PROMETHEUS_MULTIPROC_DIR" not in env, name


def test_the_metrics_volume_is_writable_by_the_images_user():
    uid = re.search(r"useradd .*--uid (\d+)", (PROJECT_ROOT / "Dockerfile").read_text()).group(1)
    options = compose()["volumes"]["metrics"]["driver_opts"]
    assert options["type"] == "tmpfs"
    assert f"uid={uid}" in options["o"].split(",") and f"gid={uid}" in options["o"].split(",")


def entrypoint_env(**env: str) -> str:
    return subprocess.run(["/bin/sh", str(ENTRYPOINT), "printenv", "PROMETHEUS_MULTIPROC_DIR"],
                          env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True).stdout.strip()


def test_the_entrypoint_gives_each_container_its_own_directory_in_the_shared_one():
    assert entrypoint_env(METRICS_SHARED_DIR="/var/lib/m") == f"/var/lib/m/{os.uname().nodename}"
    assert entrypoint_env(METRICS_SHARED_DIR="/var/lib/m", PROMETHEUS_MULTIPROC_DIR="/var/lib/m/x") == "/var/lib/m/x"
    assert entrypoint_env() == ""  # one host, as with any Procfile runner: as configured
