"""Test helpers that drive the real RQ machinery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from rq import SimpleWorker
from rq.job import Job

from integration.extensions import QUEUE_NAMES, queues, redis
from integration.job_serializer import JobSerializer
from jobs.worker import build_worker


class Drainer:
    def __init__(self, app) -> None:
        self.app = app

    def run(self, *, include_scheduled: bool = True, rounds: int = 10) -> int:
        """Run every queued job (and, if asked, every scheduled retry now) until none are left."""
        total = 0
        for _ in range(rounds):
            if include_scheduled:
                self.release_scheduled()
            if not any(q.count for q in queues.all()):
                break
            w = build_worker(QUEUE_NAMES, worker_class=SimpleWorker)
            w.work(burst=True, logging_level="WARNING")
            total += 1
        return total

    def release_scheduled(self) -> int:
        moved = 0
        for q in queues.all():
            registry = q.scheduled_job_registry
            for job_id in registry.get_job_ids():
                job = Job.fetch(job_id, connection=redis.client, serializer=JobSerializer)
                registry.remove(job)
                q.enqueue_job(job)
                moved += 1
        return moved


def shopify_webhook(client, topic: str, payload, *, shop="acme.myshopify.com", secret="test-api-secret",
                    webhook_id: str | None = None, headers: dict | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    h = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": digest,
        "Content-Type": "application/json",
    }
    h.update(headers or {})
    return client.post("/webhooks/shopify", data=body, headers=h)


def cron_schedule() -> dict[str, dict]:
    """jobs/cron.py's entries by job function name, read as RQ reads them: the module run afresh
    into an empty registry (RQ's ``load_config_from_file`` empties the shared one after loading,
    so whatever an earlier test left there says nothing)."""
    import importlib

    from rq import cron

    import jobs.cron

    saved = cron._job_data_registry
    cron._job_data_registry = []
    try:
        importlib.reload(jobs.cron)
        return {d["func"].__name__: d for d in cron._job_data_registry}
    finally:
        cron._job_data_registry = saved
