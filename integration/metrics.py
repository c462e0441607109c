"""Prometheus metrics, served at ``/metrics``.

Request latency is observed in-process. Queue depths and job counts are read from Redis at scrape
time by a collector, so every web process reports the same cluster-wide numbers however many
workers run.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from integration.extensions import queues

registry = CollectorRegistry()
REQUEST_LATENCY = Histogram(
    "nearstock_http_request_duration_seconds",
    "HTTP request latency by endpoint and status.",
    ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=registry,
)


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


registry.register(QueueCollector())


def init_app(app: Flask) -> None:
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

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
