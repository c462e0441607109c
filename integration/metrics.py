"""Prometheus metrics: what is measured, and the registry a ``/metrics`` scrape reads.

Request latency, job runs and vendor calls are counted by the process they happen in. With
``PROMETHEUS_MULTIPROC_DIR`` set (prometheus_client's multiprocess mode) every process of the host,
gunicorn and RQ workers alike, keeps its samples in files in that directory and a scrape merges
them, so any web process answers for all of them; without it a process reports only its own.
With ``METRICS_SHARED_DIR`` (Docker Compose) a scrape merges the directories of every container
(see :mod:`integration.metrics_files`).
Queue depths, the inbox lag and the notice backlog are read at scrape time from Redis and the
database, so they are the same whichever process answers.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, g, has_app_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from connectors.call_record import CallRecord
from integration.backlog import NOTICES_CAP, oldest_unprocessed_event_at, unsent_notices
from integration.config import Config
from integration.extensions import db, queues
from integration.metrics_files import hold_lease
from integration.models.base import utcnow

registry = CollectorRegistry()
REQUEST_LATENCY = Histogram(
    "nearstock_http_request_duration_seconds",
    "HTTP request latency by endpoint and status.",
    ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=registry,
)
JOB_RUNS = Counter(
    "nearstock_job_runs",
    "Job runs by job function and outcome: succeeded, retried (will run again), failed (gave up).",
    ["job", "outcome"],
    registry=registry,
)
JOB_DURATION = Histogram(
    "nearstock_job_duration_seconds",
    "Time a job function ran, whatever its outcome.",
    ["job"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600),
    registry=registry,
)
VENDOR_CALLS = Counter(
    "nearstock_vendor_calls",
    "HTTP calls to Shopify, Amazon and the warehouses by vendor, operation, HTTP status ('none': no "
    "answer) and outcome (ok, error, throttled: a 429 or Shopify's THROTTLED).",
    ["vendor", "operation", "status", "outcome"],
    registry=registry,
)
VENDOR_CALL_DURATION = Histogram(
    "nearstock_vendor_call_duration_seconds",
    "Vendor call latency by vendor (per operation: integration_log.duration_ms).",
    ["vendor"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
    registry=registry,
)


def observe_job(job: str, seconds: float) -> None:
    JOB_DURATION.labels(job).observe(seconds)


def count_job(job: str, outcome: str) -> None:
    JOB_RUNS.labels(job, outcome).inc()


def observe_vendor_call(record: CallRecord) -> None:
    throttled = record.throttled or record.status == 429
    outcome = "throttled" if throttled else "error" if record.error else "ok"
    VENDOR_CALLS.labels(record.system, record.operation, str(record.status or "none"), outcome).inc()
    VENDOR_CALL_DURATION.labels(record.system).observe(record.duration_ms / 1000)


class QueueCollector:
    def collect(self):
        depth = GaugeMetricFamily("nearstock_queue_depth", "Jobs waiting per queue.", labels=["queue"])
        jobs = GaugeMetricFamily("nearstock_jobs", "Jobs by queue and status.", labels=["queue", "status"])
        try:
            for q in queues.all():
                depth.add_metric([q.name], q.count)
                jobs.add_metric([q.name, "queued"], q.count)
                jobs.add_metric([q.name, "started"], q.started_job_registry.count)
                jobs.add_metric([q.name, "failed"], q.failed_job_registry.count)
                jobs.add_metric([q.name, "scheduled"], q.scheduled_job_registry.count)
                jobs.add_metric([q.name, "finished"], q.finished_job_registry.count)
        except Exception:  # noqa: S110 - a scrape must not fail because Redis is down; /healthz says so
            pass
        yield depth
        yield jobs


class BacklogCollector:
    """Work waiting in the database (:mod:`integration.backlog`), read at scrape time."""

    def collect(self):
        # The registry is also read outside requests (tests' get_sample_value): no database then.
        if not has_app_context():
            return
        try:
            # A connection of its own: a scrape never touches the caller's session or transaction.
            with db.engine.connect() as conn:
                oldest = oldest_unprocessed_event_at(conn)
                waiting = unsent_notices(conn)
        except Exception:  # a scrape must not fail because the database is down; /healthz says so
            return
        yield GaugeMetricFamily(
            "nearstock_inbox_lag_seconds",
            "Age of the oldest stored webhook event not yet processed (0: none waiting).",
            value=(utcnow() - oldest).total_seconds() if oldest else 0.0,
        )
        notices = GaugeMetricFamily(
            "nearstock_notices_backlog",
            f"Notices not yet sent, by status (queued, sending); counted up to {NOTICES_CAP}.",
            labels=["status"],
        )
        for status, count in waiting.items():
            notices.add_metric([status], count)
        yield notices


SCRAPE_TIME_COLLECTORS = (QueueCollector(), BacklogCollector())
for _collector in SCRAPE_TIME_COLLECTORS:
    registry.register(_collector)


class SharedDirCollector:
    """prometheus_client's multiprocess collector over the directories of every host sharing
    ``shared``. Files of one process id in two directories are two processes (two containers'
    pid 1): prometheus_client sums samples by name and labels, whichever file they come from; only
    its per-process gauge modes (``all``, ``liveall``: a ``pid`` label) would mix them up, and
    none is used here."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared

    def collect(self):
        tries = 3
        while True:
            files = [str(path) for path in sorted(self.shared.glob("*/*.db"))]
            try:
                return MultiProcessCollector.merge(files, accumulate=True)
            except FileNotFoundError:  # a gone host's directory removed meanwhile: read again
                tries -= 1
                if not tries:
                    raise


def scrape_registry(config: Config) -> CollectorRegistry:
    """What a scrape reports: in multiprocess mode a fresh registry merging every process's files
    (this process's samples are among them; every host's with a shared directory), else this
    process's own registry."""
    if config.metrics_dir is None:
        return registry
    merged = CollectorRegistry()
    if config.metrics_shared_dir is not None:
        merged.register(SharedDirCollector(config.metrics_shared_dir))
    else:
        MultiProcessCollector(merged, path=str(config.metrics_dir))
    for collector in SCRAPE_TIME_COLLECTORS:
        merged.register(collector)
    return merged


def init_app(app: Flask) -> None:
    config = app.config["NEARSTOCK"]
    if config.metrics_dir is not None:
        # A missing directory would fail the first sample written, inside a request or a job.
        config.metrics_dir.mkdir(parents=True, exist_ok=True)
        if config.metrics_shared_dir is not None:
            hold_lease(config.metrics_dir)  # this host's directory is not a gone one's while this runs

    @app.before_request
    def _start_timer():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("_metrics_started", None)
        if started is not None:
            REQUEST_LATENCY.labels(
                request.method, request.url_rule.rule if request.url_rule else "unmatched", response.status_code
            ).observe(time.perf_counter() - started)
        return response
