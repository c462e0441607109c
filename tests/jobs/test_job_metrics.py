"""Job runs counted by outcome and timed, through a real RQ worker (burst mode)."""

from __future__ import annotations

import pytest

from connectors.errors import PermanentError, RetryableError
from integration import job_catalog
from integration.inbox import dispatch
from integration.metrics import registry
from tests.helpers import shopify_webhook

TOPIC = "test/metrics"
JOB = job_catalog.PROCESS_EVENT


@pytest.fixture
def failures():
    planned: list[Exception] = []

    def handle(event, payload):
        if planned:
            raise planned.pop(0)

    dispatch.handles("shopify", TOPIC)(handle)
    yield planned
    dispatch.unregister("shopify", TOPIC)


def runs() -> dict[str, float]:
    counts = {outcome: registry.get_sample_value("nearstock_job_runs_total", {"job": JOB, "outcome": outcome}) or 0
              for outcome in ("succeeded", "retried", "failed")}
    counts["timed"] = registry.get_sample_value("nearstock_job_duration_seconds_count", {"job": JOB}) or 0
    return counts


def test_a_retried_then_successful_job_is_counted_twice(client, worker, failures):
    before = runs()
    failures.append(RetryableError("warehouse 503"))
    shopify_webhook(client, TOPIC, {"n": 1})
    worker.run()
    after = runs()
    assert after["retried"] - before["retried"] == 1
    assert after["succeeded"] - before["succeeded"] == 1
    assert after["failed"] == before["failed"]
    assert after["timed"] - before["timed"] == 2


def test_a_permanent_failure_is_counted_as_failed(client, worker, failures):
    before = runs()
    failures.append(PermanentError("unknown SKU"))
    shopify_webhook(client, TOPIC, {"n": 2})
    worker.run()
    after = runs()
    assert after["failed"] - before["failed"] == 1
    assert after["retried"] == before["retried"] and after["succeeded"] == before["succeeded"]
    assert after["timed"] - before["timed"] == 1


def test_a_job_function_called_outside_rq_is_not_counted(app):
    from jobs.events import process_event

    before = runs()
    process_event(12345)  # no such event: "gone", but not a job run
    assert runs() == before
