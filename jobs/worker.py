"""Worker entry point: ``python -m jobs.worker [queue ...] [--burst]``.

Listens on the queues in priority order (default: all), runs each job in the Flask app context,
uses the JSON serializer, and classifies failures (see :mod:`jobs.failures`). ``--with-scheduler``
is always on: RQ's scheduler is what re-enqueues jobs whose ``Retry`` has an interval.
"""

from __future__ import annotations

import argparse

from rq import Worker

from integration.extensions import QUEUE_NAMES, queues, redis
from integration.job_serializer import JobSerializer
from jobs.failures import classify_failure
from jobs.runtime import get_app


def build_worker(queue_names=QUEUE_NAMES, worker_class=Worker, name: str | None = None) -> Worker:
    return worker_class(
        [queues[q] for q in queue_names],
        connection=redis.client,
        serializer=JobSerializer,
        exception_handlers=[classify_failure],
        name=name,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Nearstock RQ worker")
    parser.add_argument("queues", nargs="*", help=f"queues to listen on (default: {' '.join(QUEUE_NAMES)})")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)
    unknown = set(args.queues) - set(QUEUE_NAMES)
    if unknown:
        parser.error(f"unknown queue(s): {', '.join(sorted(unknown))}")
    app = get_app()
    with app.app_context():
        worker = build_worker(args.queues or QUEUE_NAMES, name=args.name)
        worker.work(burst=args.burst, with_scheduler=True, logging_level=app.config["NEARSTOCK"].log_level)


if __name__ == "__main__":
    main()
