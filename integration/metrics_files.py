"""The sample files of Prometheus multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), and the two
gunicorn server hooks that look after them (gunicorn's config module imports them by name).

Each process writes ``<type>_<pid>.db`` files there, and a scrape sums every file, the files of
exited processes included (so a counter keeps what a recycled worker counted). prometheus_client
asks for the directory to be wiped before the processes start. Several process types of one host
share it (gunicorn, RQ workers), and they do not start at one moment; so what is removed at a
start is the files of processes that are gone: everything when the whole host starts, never the
samples of a worker still running.

Under Docker Compose every container is a host of its own, with its own process ids (each
container's main process is pid 1). So the containers share one volume (``METRICS_SHARED_DIR``)
in which each keeps its own directory, named after its hostname (``docker/entrypoint.sh``), and
the web's scrape sums them all. A process id means something only in its own container: the
files of gone processes are removed from the starting host's own directory only. A whole
directory goes once its container is gone (recreated by a deploy, scaled down): while it runs,
every process of a container holds a shared lock on its directory's lease file (inherited by
forked children); a directory whose lease nobody holds is removed when the web starts.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

from integration.config import Config

LEASE = ".lease"
# This process's leases (directory -> open descriptor), held until it exits.
_leases: dict[Path, int] = {}


def on_starting(server) -> None:
    """gunicorn hook, in the master before any worker forks: the directory exists and holds no
    samples of processes that are gone (counted again, or continued under a reused pid); with a
    shared directory, this container holds its lease and the directories of gone ones go."""
    config = Config.from_env()
    if config.metrics_dir is not None:
        remove_dead_process_files(config.metrics_dir)
        if config.metrics_shared_dir is not None:
            hold_lease(config.metrics_dir)
            remove_dead_hosts(config.metrics_shared_dir)


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


def hold_lease(directory: Path) -> None:
    """Create this host's directory if needed and hold a shared lock on its lease until the process
    exits (a no-op when this process, or the parent it was forked from, already does)."""
    if directory in _leases:
        return
    lease = directory / LEASE
    while True:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lease, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the directory was removed as a gone host's just now
            continue
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            current = os.stat(lease)
        except FileNotFoundError:
            current = None
        opened = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino):
            _leases[directory] = fd
            return
        os.close(fd)  # removed between our open and our lock: the directory is new now


def remove_dead_hosts(shared: Path) -> int:
    """Remove the directories of ``shared`` whose lease no process holds. A directory without a
    lease file yet is one being created: kept. Returns how many were removed."""
    removed = 0
    for directory in shared.iterdir():
        try:
            fd = os.open(directory / LEASE, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a process of that host runs
            os.close(fd)
            continue
        try:
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True
