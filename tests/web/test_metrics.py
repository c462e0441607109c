"""/metrics: the bearer token, multiprocess aggregation, vendor call counts, the backlog gauges."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.call_record import CallRecord
from integration import create_app, metrics_files
from integration.call_log import record_call
from integration.config import PROJECT_ROOT, ConfigError
from integration.extensions import db
from integration.models import EventStatus, Notification, WebhookEvent
from integration.models.base import utcnow
from tests.conftest import make_config
from tests.helpers_warehouse import make_shop

TOKEN = "scrape-token-0123456789abcdef"


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def scrape(client, **headers) -> str:
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.data
    return r.get_data(as_text=True)


@pytest.fixture
def production_client(tmp_path, database_url, redis_url, redis_conn):
    def build(**env):
        config = make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="production",
                             APP_URL="https://nearstock.example", SMTP_URL="smtp://mail.example:587", **env)
        return create_app(config).test_client()

    return build


def test_production_metrics_need_the_bearer_token(production_client):
    client = production_client(METRICS_TOKEN=TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].lower().startswith("bearer")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    text = scrape(client, Authorization=f"Bearer {TOKEN}")
    assert 'nearstock_queue_depth{queue="events"}' in text
    assert client.get("/healthz").status_code in (200, 503)  # unchanged: never behind the token


def test_production_without_a_token_has_no_metrics(production_client):
    client = production_client()
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_a_token_set_outside_production_is_required_too(tmp_path, database_url, redis_url, redis_conn):
    client = create_app(make_config(tmp_path, database_url, redis_url, METRICS_TOKEN=TOKEN)).test_client()
    assert client.get("/metrics").status_code == 401
    scrape(client, Authorization=f"bearer {TOKEN}")


def test_a_short_token_stops_start_up(tmp_path, database_url, redis_url):
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        make_config(tmp_path, database_url, redis_url, METRICS_TOKEN="short")


def test_metrics_are_open_outside_production_without_a_token(client):
    scrape(client)


def test_vendor_calls_are_counted_from_the_call_record(app, client):
    shop_id = make_shop().id
    before = sample(scrape(client), "nearstock_vendor_calls_total", vendor="winit", operation="queryInventory",
                    status="429", outcome="throttled") or 0
    record_call(shop_id, CallRecord(system="winit", operation="queryInventory", status=429, duration_ms=120.0,
                                    error="http 429"))
    record_call(shop_id, CallRecord(system="shopify", operation="productVariants", status=200, duration_ms=80.0,
                                    error="THROTTLED", throttled=True))
    record_call(shop_id, CallRecord(system="winit", operation="queryInventory", status=None, duration_ms=5000.0,
                                    error="ReadTimeout"))
    text = scrape(client)
    assert sample(text, "nearstock_vendor_calls_total", vendor="winit", operation="queryInventory", status="429",
                  outcome="throttled") == before + 1
    assert sample(text, "nearstock_vendor_calls_total", vendor="shopify", operation="productVariants",
                  status="200", outcome="throttled") >= 1
    assert sample(text, "nearstock_vendor_calls_total", vendor="winit", operation="queryInventory", status="none",
                  outcome="error") >= 1
    assert sample(text, "nearstock_vendor_call_duration_seconds_count", vendor="winit") >= 2


def test_inbox_lag_is_the_age_of_the_oldest_unprocessed_event(app, client):
    assert sample(scrape(client), "nearstock_inbox_lag_seconds") == 0
    now = utcnow()
    for n, (status, age) in enumerate([(EventStatus.DONE, 3600), (EventStatus.RECEIVED, 90),
                                       (EventStatus.PROCESSING, 30)]):
        db.session.add(WebhookEvent(source="shopify", delivery_id=f"d{n}", topic="orders/create", body=b"{}",
                                    status=status, attempts=0, received_at=now - timedelta(seconds=age)))
    db.session.commit()
    assert 90 <= sample(scrape(client), "nearstock_inbox_lag_seconds") < 150


def test_notice_backlog_counts_queued_and_sending(app, client):
    shop_id = make_shop().id
    for n, status in enumerate(["queued", "queued", "sending", "sent", "failed"]):
        db.session.add(Notification(shop_id=shop_id, kind="shipped", subject=f"shipment:{n}",
                                    recipient=f"c{n}@example.com", status=status, attempts=0))
    db.session.commit()
    text = scrape(client)
    assert sample(text, "nearstock_notices_backlog", status="queued") == 2
    assert sample(text, "nearstock_notices_backlog", status="sending") == 1


RECORD_IN_ANOTHER_PROCESS = """
from connectors.call_record import CallRecord
from integration import metrics
metrics.count_job("jobs.test.work", "succeeded")
metrics.observe_job("jobs.test.work", 0.2)
metrics.observe_vendor_call(CallRecord(system="goodcang", operation="getInventory", status=200, duration_ms=50.0))
"""


def test_one_scrape_sums_every_process_in_multiprocess_mode(tmp_path, database_url, redis_url, redis_conn):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    writers = [subprocess.Popen([sys.executable, "-c", RECORD_IN_ANOTHER_PROCESS], cwd=PROJECT_ROOT, env=env)
               for _ in range(2)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]

    app = create_app(make_config(tmp_path, database_url, redis_url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)))
    with app.app_context():
        text = scrape(app.test_client())
        db.session.remove()
    assert sample(text, "nearstock_job_runs_total", job="jobs.test.work", outcome="succeeded") == 2
    assert sample(text, "nearstock_job_duration_seconds_count", job="jobs.test.work") == 2
    assert sample(text, "nearstock_vendor_calls_total", vendor="goodcang", operation="getInventory", status="200",
                  outcome="ok") == 2
    assert sample(text, "nearstock_queue_depth", queue="events") == 0  # scrape-time gauges are there too


def test_gunicorn_hooks_clear_gone_processes_and_drop_live_gauges(tmp_path, monkeypatch):
    metrics_dir = tmp_path / "metrics"
    for name, value in (("NEARSTOCK_ENV", "testing"), ("NEARSTOCK_INSTANCE_PATH", str(tmp_path / "instance")),
                        ("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))):
        monkeypatch.setenv(name, value)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    metrics_files.on_starting(server=None)  # creates the directory
    for name in (f"counter_{gone.pid}.db", f"histogram_{gone.pid}.db", f"counter_{os.getpid()}.db"):
        (metrics_dir / name).write_bytes(b"")
    metrics_files.on_starting(server=None)
    assert sorted(p.name for p in metrics_dir.iterdir()) == [f"counter_{os.getpid()}.db"]

    (metrics_dir / f"gauge_livesum_{os.getpid()}.db").write_bytes(b"")
    metrics_files.child_exit(server=None, worker=SimpleNamespace(pid=os.getpid()))
    assert sorted(p.name for p in metrics_dir.iterdir()) == [f"counter_{os.getpid()}.db"]
