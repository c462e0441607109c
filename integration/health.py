"""What /healthz reports: can we reach the database and Redis, and is work flowing?"""

from __future__ import annotations

import time

from rq import Worker
from sqlalchemy import text

from integration.extensions import db, queues, redis
from integration.models.base import utcnow


def check() -> tuple[bool, dict]:
    """Returns (healthy, report). Healthy means the database and Redis both answer."""
    report: dict = {}
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        report["database"] = {"ok": True, "dialect": db.dialect}
    except Exception as exc:
        db.session.rollback()
        report["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        redis.client.ping()
        report["redis"] = {"ok": True}
    except Exception as exc:
        report["redis"] = {"ok": False, "error": type(exc).__name__}

    if report["redis"]["ok"]:
        try:
            report["queues"] = {q.name: q.count for q in queues.all()}
            report["failed_jobs"] = sum(q.failed_job_registry.count for q in queues.all())
            workers = Worker.all(connection=redis.client)
            beats = [w.last_heartbeat for w in workers if w.last_heartbeat]
            newest = max(beats) if beats else None
            report["workers"] = {
                "count": len(workers),
                "last_heartbeat": newest.isoformat() if newest else None,
                "heartbeat_age_s": round((utcnow() - newest).total_seconds(), 1) if newest else None,
            }
        except Exception as exc:
            report["queues_error"] = type(exc).__name__
    report["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = report["database"]["ok"] and report["redis"]["ok"]
    report["status"] = "ok" if healthy else "unavailable"
    return healthy, report
