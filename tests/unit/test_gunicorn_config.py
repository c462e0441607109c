"""gunicorn's settings: loopback outside production, and an access log that holds no query string,
body, header or client address."""

from __future__ import annotations

import importlib
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
import structlog
from gunicorn.config import Config as GunicornConfig

from integration import metrics_files
from integration.config import REQUIRED_IN_PRODUCTION
from tests.unit.test_config import production_env


@pytest.fixture
def load(monkeypatch, tmp_path):
    """integration.gunicorn_config imported afresh under the given environment (gunicorn reads it
    once, at start); the logging it configures is undone afterwards."""
    root = logging.getLogger()
    handlers, level, structlog_config = root.handlers[:], root.level, structlog.get_config()

    def load(**env):
        for name in ("NEARSTOCK_ENV", "PORT", "LOG_FORMAT", "LOG_LEVEL", *REQUIRED_IN_PRODUCTION):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NEARSTOCK_INSTANCE_PATH", str(tmp_path / "instance"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(importlib.import_module("integration.gunicorn_config"))

    yield load
    root.handlers[:], root.level = handlers, level
    structlog.configure(**structlog_config)


def test_development_listens_on_loopback_production_everywhere(load):
    assert load(NEARSTOCK_ENV="development", PORT="8123").bind == ["127.0.0.1:8123"]
    assert load(NEARSTOCK_ENV="testing").bind == ["127.0.0.1:8000"]
    assert load(**production_env(PORT="9000")).bind == ["0.0.0.0:9000"]


def test_the_metrics_hooks_are_gunicorn_hooks(load):
    module = load(NEARSTOCK_ENV="development")
    assert (module.on_starting, module.child_exit) == (metrics_files.on_starting, metrics_files.child_exit)


def test_an_incomplete_production_configuration_stops_gunicorn_with_one_line(load):
    with pytest.raises(SystemExit, match=r"^nearstock: DATABASE_URL is required"):
        load(NEARSTOCK_ENV="production")


def test_access_line_keeps_method_route_status_duration_and_request_id_only(load, capsys):
    module = load(NEARSTOCK_ENV="development", LOG_FORMAT="json")
    cfg = GunicornConfig()
    cfg.set("accesslog", module.accesslog)
    logger = module.StructuredLogger(cfg)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/notifications/unsubscribe/eyJlIjoiYWRhQGV4YW1wbGUuY29tIn0",
               "RAW_URI": "/notifications/unsubscribe/eyJl?email=ada%40example.com",
               "QUERY_STRING": "email=ada%40example.com",
               "REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Mozilla/5.0", "HTTP_REFERER": "https://shop.example/?e=x",
               "SERVER_PROTOCOL": "HTTP/1.1",
               "nearstock.route": "/notifications/unsubscribe/<token>", "nearstock.request_id": "req-123456789"}
    response = SimpleNamespace(status="200 OK", status_code=200, headers=[("X-Request-Id", "req-123456789")], sent=42)
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12.34))
    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "http.request" in line]
    assert {k: v for k, v in line.items() if k != "timestamp"} == {
        "event": "http.request", "level": "info", "logger": "gunicorn.access", "method": "POST",
        "path": "/notifications/unsubscribe/<token>", "status": 200, "duration_ms": 12.3, "request_id": "req-123456789"}


def test_an_unmatched_path_is_not_logged(load, capsys):
    module = load(NEARSTOCK_ENV="development", LOG_FORMAT="json")
    cfg = GunicornConfig()
    cfg.set("accesslog", module.accesslog)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/track/ada@example.com", "nearstock.route": None}
    module.StructuredLogger(cfg).access(SimpleNamespace(status_code=404), None, environ, timedelta(seconds=0))
    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "http.request" in line]
    assert line["path"] is None and line["status"] == 404
