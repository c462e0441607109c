"""The sample files of Prometheus multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), and the two
gunicorn server hooks that look after them (gunicorn's config module imports them by name).

Each process writes ``<type>_<pid>.db`` files there, and a scrape sums every file, the files of
exited processes included (so a counter keeps what a recycled worker counted). prometheus_client
asks for the directory to be wiped before the processes start. Several process types of one host
share it (gunicorn, RQ workers), and they do not start at one moment; so what is removed at a
start is the files of processes that are gone: everything when the whole host starts, never the
samples of a worker still running.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import multiprocess

from integration.config import Config


def on_starting(server) -> None:
    """gunicorn hook, in the master before any worker forks: the directory exists and holds no
    samples of processes that are gone (counted again, or continued under a reused pid)."""
    metrics_dir = Config.from_env().metrics_dir
    if metrics_dir is not None:
        remove_dead_process_files(metrics_dir)


def child_exit(server, worker) -> None:
    """gunicorn hook: drop a dead worker's live gauges (prometheus_client's ``live*`` modes) from
    the scrape; its counters and histograms stay in the sums."""
    metrics_dir = Config.from_env().metrics_dir
    if metrics_dir is not None:
        multiprocess.mark_process_dead(worker.pid, str(metrics_dir))


def remove_dead_process_files(directory: Path) -> int:
    """Create the directory if needed; remove the sample files of processes no longer running.
    Returns how many files were removed."""
    directory.mkdir(parents=True, exist_ok=True)
    removed = 0
    for path in directory.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True
