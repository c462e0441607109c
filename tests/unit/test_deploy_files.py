"""The deployment files agree with the Procfile: docker-compose.yml runs exactly its processes
(and the release step before them) from the image of the Dockerfile, whose entrypoint runs a
Procfile line as any Procfile runner does. No Docker needed: the files are parsed, and the
entrypoint runs against stand-in executables."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from integration.config import PROJECT_ROOT, REQUIRED_IN_PRODUCTION

ENTRYPOINT = PROJECT_ROOT / "docker" / "entrypoint.sh"
SECRETS = ("SECRET_KEY", "NEARSTOCK_ENCRYPTION_KEY", "SHOPIFY_API_SECRET", "SHOPIFY_API_SECRET_PREVIOUS",
           "SMTP_URL", "AMAZON_LWA_CLIENT_SECRET", "METRICS_TOKEN", "DATABASE_URL")


def procfile() -> dict[str, str]:
    """Process name -> command line, as Procfile runners read the file."""
    entries = (line.split(":", 1) for line in (PROJECT_ROOT / "Procfile").read_text().splitlines()
               if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): command.strip() for name, command in entries}


def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def app_services() -> dict[str, dict]:
    return {name: service for name, service in compose()["services"].items() if "build" in service}


def dockerfile() -> list[tuple[str, str]]:
    text = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_compose_runs_every_procfile_process_and_nothing_else():
    services = app_services()
    assert {s["command"][0] for s in services.values()} == set(procfile())
    assert all(len(s["command"]) == 1 for s in services.values())
    assert len({(s["build"], s["image"]) for s in services.values()}) == 1  # one image
    assert procfile()["release"] == "flask --app integration db upgrade"


def test_processes_wait_for_the_release_step():
    services = app_services()
    release = next(name for name, s in services.items() if s["command"] == ["release"])
    assert services[release]["restart"] == "no"
    for name, service in services.items():
        if name != release:
            assert service["depends_on"][release] == {"condition": "service_completed_successfully"}, name


def test_compose_redis_keeps_and_never_evicts_the_queues():
    command = " ".join(compose()["services"]["redis"]["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command


def test_compose_sets_every_production_variable_and_writes_no_secret():
    config_source = (PROJECT_ROOT / "integration" / "config.py").read_text()
    procfile_text = " ".join(procfile().values())
    for name, service in app_services().items():
        env = service["environment"]
        assert env["NEARSTOCK_ENV"] == "production", name
        assert set(REQUIRED_IN_PRODUCTION) <= set(env), name
        for key, value in env.items():
            assert f'"{key}"' in config_source or key in procfile_text, f"{key} is read by nothing"
            if key in SECRETS:
                # Only interpolations, from the shell or .env, with no default to fall back on.
                literal = re.sub(r"\$\{[A-Z_]+(:\?[^}]*|:-)\}", "", value)
                assert "$" not in literal, key
                assert (urlsplit(literal).password or "") == "" if "://" in literal else literal == "", key


def test_dockerfile_builds_the_runtime_image_the_entrypoint_runs():
    instructions = dockerfile()
    assert ("FROM", "python:3.11-slim") in instructions
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "pip install -r requirements.txt" in runs and "requirements-dev" not in runs
    assert ("ENTRYPOINT", '["/bin/sh", "/app/docker/entrypoint.sh"]') in instructions
    assert ("CMD", '["web"]') in instructions
    # Everything copied must get through .dockerignore's allowlist, or the build fails.
    allowed = {line[1:] for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    copied = {src for op, arg in instructions if op == "COPY" for src in arg.split()[:-1]}
    assert copied <= allowed and {"Procfile", "docker/", "integration/", "connectors/", "jobs/"} <= copied


@pytest.fixture
def stand_ins(tmp_path) -> dict[str, str]:
    """An environment whose PATH starts with stand-ins for each Procfile command's program,
    printing their arguments one per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in procfile().values():
        program = bin_dir / shlex.split(command)[0]
        program.write_text(f'#!/bin/sh\nprintf "%s\\n" {program.name} "$@"\n')
        program.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PORT": "8123", "REDIS_URL": "redis://redis:6379/0"}


@pytest.mark.parametrize("name", sorted(procfile()))
def test_the_entrypoint_runs_a_procfile_line_as_a_procfile_runner_does(stand_ins, name):
    # honcho, foreman and Heroku run each line with `sh -c`.
    expected = subprocess.run(["/bin/sh", "-c", procfile()[name]], env=stand_ins, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, check=True).stdout
    got = subprocess.run(["/bin/sh", str(ENTRYPOINT), name], env=stand_ins, cwd=Path("/"),
                         capture_output=True, text=True, check=True).stdout
    assert got == expected and got.startswith(shlex.split(procfile()[name])[0])


def test_the_entrypoint_runs_any_other_command_as_given(stand_ins):
    out = subprocess.run(["/bin/sh", str(ENTRYPOINT), "echo", "web"], env=stand_ins, capture_output=True, text=True,
                         check=True).stdout
    assert out == "web\n"
