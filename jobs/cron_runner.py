"""Cron entry point: ``python -m jobs.cron_runner`` (the Procfile's ``cron``).

Runs RQ's cron scheduler on the schedule declared in :mod:`jobs.cron`, as ``rq cron jobs.cron``
would, except that a Redis outage does not end it (see :func:`jobs.outage.run_cron`). SIGTERM or
SIGINT stops it between two rounds. Exactly one per deployment.
"""

from __future__ import annotations

import signal
import threading

from rq.cron import CronScheduler

from integration.extensions import redis
from jobs.outage import run_cron
from jobs.runtime import get_app

SCHEDULE = "jobs.cron"


def main() -> None:
    app = get_app()  # the configuration, Redis and the app's logging
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler = CronScheduler(connection=redis.client, logging_level=app.config["NEARSTOCK"].log_level)
    scheduler.load_config_from_file(SCHEDULE)
    run_cron(scheduler, stop)


if __name__ == "__main__":
    main()
