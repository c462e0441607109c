"""Notices have their own worker: a customer's e-mail never waits behind a bulk sync or a retry
storm on the shared queues."""

from __future__ import annotations

import gc
import shlex
from pathlib import Path

from integration.extensions import queues, redis
from jobs.runtime import job
from jobs.worker import main as worker_main

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
DONE = "test:notice-capacity:done"


@job
def mark(name: str) -> str:
    redis.client.sadd(DONE, name)
    return name


def test_the_notify_process_serves_the_notify_queue_alone(app, monkeypatch):
    processes = dict(line.split(":", 1) for line in PROCFILE.read_text().splitlines() if ":" in line)
    argv = shlex.split(processes["notify"])
    assert argv[:3] == ["python", "-m", "jobs.worker"]
    redis.client.delete(DONE)
    queues.enqueue("sync", f"{__name__}.mark", "bulk sync", job_id="capacity-sync")
    queues.enqueue("notify", f"{__name__}.mark", "notice", job_id="capacity-notify")
    monkeypatch.setattr("jobs.worker.get_app", lambda: app)
    try:
        worker_main([*argv[3:], "--burst"])  # the Procfile's notify process, until its queue is empty
    finally:
        gc.unfreeze()  # the worker freezes its start-up objects; give the test process its GC back
    assert redis.client.smembers(DONE) == {b"notice"}
    assert queues["sync"].job_ids == ["capacity-sync"]  # left to the general workers
