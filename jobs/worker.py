"""Worker entry point: ``python -m jobs.worker [queue ...] [--burst] [--fork]``.

Listens on the queues in priority order (default: all), runs each job in the Flask app context,
uses the JSON serializer, and classifies failures (see :mod:`jobs.failures`). RQ's scheduler runs
in one worker's child process: it is what re-enqueues jobs whose ``Retry`` has an interval; every
worker checks every few seconds that one runs (:class:`jobs.outage.SchedulerKept`).

By default jobs run in the worker process itself (``SimpleWorker``). RQ's forking worker starts
every job in a fresh child, which throws away every warm cache (imported handlers, SQLAlchemy's
compiled statements, connection pools): measured here at ~150 ms of overhead per job against
~10 ms of work. Job timeouts still hold (SIGALRM), and a worker killed mid-job is recovered: RQ
retries abandoned jobs once their heartbeat expires, and the inbox/outbound sweepers re-enqueue
what was left behind. ``--fork`` trades that speed for per-job process isolation.

A Redis or database outage does not end the process: see :mod:`jobs.outage`.
"""

from __future__ import annotations

import argparse
import gc
import importlib

from redis import ConnectionPool, Redis
from rq import SimpleWorker, Worker
from rq.connections import parse_connection

from integration.extensions import QUEUE_NAMES, queues, redis
from integration.job_serializer import JobSerializer
from jobs.failures import classify_failure, count_failure
from jobs.outage import DatabaseWaited, RedisWatch, SchedulerKept, run_worker
from jobs.runtime import get_app

JOB_MODULES = ("jobs.events", "jobs.shopify", "jobs.warehousing", "jobs.stock", "jobs.amazon", "jobs.notify",
               "jobs.storefront", "jobs.loyalty")


def build_worker(queue_names=QUEUE_NAMES, worker_class=SimpleWorker, name: str | None = None) -> Worker:
    return worker_class(
        [queues[q] for q in queue_names],
        connection=own_connection(),
        serializer=JobSerializer,
        exception_handlers=[classify_failure, count_failure],
        name=name,
    )


def own_connection() -> Redis:
    """A client with a pool of its own, on the app's settings, for RQ's work loop.

    RQ raises the socket timeout of the connection it is given above its blocking pop's 405 s,
    by editing the pool's settings: connections the pool already holds keep the app's 5 s. On
    such a connection (the app's own pings take one before the worker exists) an idle worker's
    pop timed out every 5 s, and RQ's reconnect loop then waited 1, 2, 4... up to 60 s before the
    next pop: a job enqueued meanwhile waited as long. A pool of its own has only connections made
    with RQ's timeout, and the app's connections keep theirs (as RQ's scheduler does, see
    ``RQScheduler.connection``)."""
    client_class, connection_class, settings = parse_connection(redis.client)
    return client_class(connection_pool=ConnectionPool(connection_class=connection_class, **settings))


class NearstockSimpleWorker(DatabaseWaited, SchedulerKept, SimpleWorker):
    pass


class NearstockWorker(DatabaseWaited, SchedulerKept, Worker):
    pass


def preload() -> None:
    """Import every job module up front, so the first job of each kind is not slow (the event
    handlers are imported with the wiring, by create_app)."""
    for module in JOB_MODULES:
        importlib.import_module(module)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Nearstock RQ worker")
    parser.add_argument("queues", nargs="*", help=f"queues to listen on (default: {' '.join(QUEUE_NAMES)})")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--fork", action="store_true", help="run each job in a forked child process")
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)
    unknown = set(args.queues) - set(QUEUE_NAMES)
    if unknown:
        parser.error(f"unknown queue(s): {', '.join(sorted(unknown))}")
    app = get_app()
    preload()
    # Long-lived objects out of the collector's reach (fewer copied pages after a fork).
    gc.freeze()
    with app.app_context():
        if not args.burst:
            RedisWatch(app).start()
        run_worker(lambda: build_worker(args.queues or QUEUE_NAMES, name=args.name,
                                        worker_class=NearstockWorker if args.fork else NearstockSimpleWorker),
                   burst=args.burst, with_scheduler=True, logging_level=app.config["NEARSTOCK"].log_level)


if __name__ == "__main__":
    main()
