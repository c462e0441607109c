"""process_event through real RQ workers: handlers, retries, permanent failures, the sweeper."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.errors import PermanentError, RetryableError
from integration import job_catalog
from integration.extensions import DEFAULT_RETRY, db, queues
from integration.inbox import dispatch
from integration.inbox import events as inbox
from integration.models import EventStatus, WebhookEvent
from integration.models.base import utcnow
from tests.helpers import cron_schedule, shopify_webhook

TOPIC = "test/topic"


@pytest.fixture
def handler():
    calls = []
    behaviour = {"fail": []}

    def handle(event, payload):
        calls.append(payload)
        if behaviour["fail"]:
            raise behaviour["fail"].pop(0)

    dispatch.handles("shopify", TOPIC)(handle)
    yield calls, behaviour
    dispatch.unregister("shopify", TOPIC)


def event_row():
    db.session.expire_all()
    return db.session.execute(select(WebhookEvent)).scalar_one()


def failed_ids():
    return queues["events"].failed_job_registry.get_job_ids()


def test_event_is_handled_once_even_if_processed_twice(client, worker, handler):
    calls, _ = handler
    shopify_webhook(client, TOPIC, {"n": 1})
    worker.run()
    assert calls == [{"n": 1}]
    event = event_row()
    assert event.status == EventStatus.DONE and event.attempts == 1 and event.processed_at
    assert inbox.process_event(event.id) == EventStatus.DONE  # a second run does nothing
    assert calls == [{"n": 1}]


def test_retryable_error_is_retried_with_backoff(client, worker, handler):
    calls, behaviour = handler
    behaviour["fail"] = [RetryableError("warehouse 503"), RetryableError("again", retry_after=42)]
    shopify_webhook(client, TOPIC, {"n": 2})
    worker.run(include_scheduled=False)
    assert len(calls) == 1
    scheduled = queues["events"].scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1  # waiting for its backoff, not failed
    assert event_row().status == EventStatus.RECEIVED and "warehouse 503" in event_row().error
    worker.run()
    assert len(calls) == 3 and event_row().status == EventStatus.DONE
    assert failed_ids() == []


def test_retry_after_stretches_the_next_interval(client, worker, handler, redis_conn):
    from rq.job import Job

    from integration.job_serializer import JobSerializer

    _, behaviour = handler
    behaviour["fail"] = [RetryableError("throttled", retry_after=700)]
    shopify_webhook(client, TOPIC, {"n": 3})
    worker.run(include_scheduled=False)
    [job_id] = queues["events"].scheduled_job_registry.get_job_ids()
    job = Job.fetch(job_id, connection=redis_conn, serializer=JobSerializer)
    assert job.retry_intervals[0] >= 700


def test_permanent_error_fails_at_once_and_is_recorded(client, worker, handler):
    calls, behaviour = handler
    behaviour["fail"] = [PermanentError("unknown SKU", field="sku")]
    shopify_webhook(client, TOPIC, {"n": 4})
    worker.run()
    assert len(calls) == 1  # never retried
    event = event_row()
    assert event.status == EventStatus.FAILED and "unknown SKU" in event.error
    assert failed_ids() == [job_catalog.process_event_id(event.id)]


def test_invalid_json_body_fails_permanently(client, worker, handler):
    calls, _ = handler
    shopify_webhook(client, TOPIC, b"{not json")
    worker.run()
    assert calls == [] and event_row().status == EventStatus.FAILED


def test_event_without_handler_is_kept_as_ignored(client, worker):
    shopify_webhook(client, "unknown/topic", {"x": 1})
    worker.run()
    assert event_row().status == EventStatus.IGNORED


def test_sweeper_requeues_an_event_whose_job_was_lost(client, worker, handler, redis_conn):
    calls, _ = handler
    shopify_webhook(client, TOPIC, {"n": 5})
    queues["events"].empty()  # the job vanished (e.g. Redis lost it)
    assert inbox.sweep_stale_events() == 0  # too recent to be called stale
    assert inbox.sweep_stale_events(now=utcnow() + timedelta(minutes=11)) == 1
    assert inbox.sweep_stale_events(now=utcnow() + timedelta(minutes=11)) == 0  # already queued
    worker.run()
    assert calls == [{"n": 5}] and event_row().status == EventStatus.DONE


def test_sweeper_requeues_an_event_whose_job_failed_midway(client, worker, handler):
    calls, behaviour = handler
    attempts = len(DEFAULT_RETRY) + 1
    behaviour["fail"] = [RuntimeError("killed")] * attempts  # exhausts RQ's retries
    shopify_webhook(client, TOPIC, {"n": 6})
    worker.run()
    assert event_row().status == EventStatus.RECEIVED and failed_ids()
    assert inbox.sweep_stale_events(now=utcnow() + timedelta(minutes=11)) == 1
    worker.run()
    assert event_row().status == EventStatus.DONE and len(calls) == attempts + 1


def test_cli_lists_and_requeues_failed_jobs(app, client, worker, handler):
    _, behaviour = handler
    behaviour["fail"] = [PermanentError("bad payload")]
    shopify_webhook(client, TOPIC, {"n": 8})
    worker.run()
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["jobs", "failed"])
    job_id = job_catalog.process_event_id(event_row().id)
    assert job_id in listing.output and "bad payload" in listing.output
    result = runner.invoke(args=["jobs", "requeue", job_id])
    assert result.exit_code == 0 and failed_ids() == []
    assert queues["events"].get_job_ids() == [job_id]
    assert runner.invoke(args=["jobs", "requeue", "nope"]).exit_code != 0


def test_cli_enqueue_only_accepts_job_functions(app, worker):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "enqueue", "os.system", '"id"']).exit_code != 0
    result = runner.invoke(args=["jobs", "enqueue", "jobs.events.sweep_stale_events"])
    assert result.exit_code == 0
    job_id = result.output.strip()
    worker.run()
    status = runner.invoke(args=["jobs", "status", job_id])
    assert '"status": "finished"' in status.output and '"result": 0' in status.output


def test_cron_schedule_declares_the_sweeper():
    assert "sweep_stale_events" in cron_schedule()
