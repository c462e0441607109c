"""Group commit for the inbox: the webhook requests of one process share their writes.

Every webhook must be stored and its job enqueued before we answer 200. Done one request at a
time that is an INSERT round trip, a commit, and a Redis transaction per webhook, and on two cores
the per-call overhead of those (driver, SQLAlchemy, redis-py, PostgreSQL's per-commit work) is most
of the request's cost. Requests that arrive together are therefore written together: one
multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, one Redis pipeline with every new job.

Leader/follower, no background thread (fork-safe under gunicorn, nothing to start or stop): the
first request to find no write in progress becomes the leader, takes everything queued (up to
``MAX_BATCH``), writes it, hands each waiting request its result, and passes leadership to the
next queued request if more arrived meanwhile. Alone, a request leads a batch of one at the same
cost as before; under load, batches grow by themselves and the per-webhook cost falls.

Guarantees are those of the single-row path: a request is answered 200 only after its row is
committed and its job is in Redis; any failure fails every request of the batch with
:class:`~integration.inbox.events.InboxUnavailableError` (503, the sender retries; a stored but
unqueued event is re-enqueued by the redelivery or by the sweeper).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import uuid
from dataclasses import dataclass, field

from integration import job_catalog
from integration.extensions import db
from integration.models import EventStatus, WebhookEvent

MAX_BATCH = 64
# A follower waits this long for its leader; far beyond any healthy write. Reaching it means the
# leader's thread is stuck (a hung database), and the request answers 503 rather than hang.
FOLLOWER_TIMEOUT_S = 30.0


@dataclass(eq=False)
class Pending:
    values: dict
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # set instead of a result: this request leads the next batch
    event_id: int | None = None
    status: str | None = None
    job_id: str | None = None  # an existing row's covering job (see WebhookEvent.job_id)
    duplicate: bool = False
    error: BaseException | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.values["source"], self.values["delivery_id"]


class GroupCommit:
    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Pending] = []
        self._leading = False

    def submit(self, values: dict, write) -> Pending:
        """Queue one row and return it written (or failed). ``write(batch)`` stores a batch."""
        item = Pending(values)
        with self._lock:
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
        if not lead:
            if not item.done.wait(FOLLOWER_TIMEOUT_S):
                with self._lock:
                    if item in self._queue:  # never taken: withdraw it, nothing was written
                        self._queue.remove(item)
                item.error = item.error or TimeoutError("inbox write did not complete in time")
                return item
            if not item.lead:
                return item
        self._lead(write)
        return item

    def _lead(self, write) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            write(batch)
        except BaseException as exc:  # every waiter must learn the outcome, whatever it is
            for item in batch:
                item.error = exc
            if not isinstance(exc, Exception):  # SystemExit & co. still end this thread
                raise
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
            for item in batch:
                item.done.set()
            if successor is not None:  # hand over; this request returns without more waiting
                successor.lead = True
                successor.done.set()


COLUMNS = ("source", "delivery_id", "topic", "shop_domain", "body", "received_at", "status", "attempts", "job_id")


@functools.cache
def _insert_sql(dialect_name: str, rows: int) -> str:
    """Plain SQL for ``rows`` rows, built once per batch size: on this path SQLAlchemy's
    statement compilation and multi-values rewriting cost more than the database round trip."""
    mark = "?" if dialect_name == "sqlite" else "%s"
    row = "(" + ", ".join([mark] * len(COLUMNS)) + ")"
    # Only constant names and placeholders go into the text; every value is bound.
    head = f"INSERT INTO {WebhookEvent.__tablename__} ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
    tail = " ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id, source, delivery_id"
    return head + ", ".join([row] * rows) + tail


@functools.cache
def _existing_sql(dialect_name: str, keys: int) -> str:
    mark = "?" if dialect_name == "sqlite" else "%s"
    match = " OR ".join([f"(source = {mark} AND delivery_id = {mark})"] * keys)
    return f"SELECT id, source, delivery_id, status, job_id FROM {WebhookEvent.__tablename__} WHERE " + match  # noqa: S608


@functools.cache
def _bind_processors(dialect) -> tuple:
    """The column types' own conversions (timestamps as SQLite stores them, ...), so rows written
    here read back exactly like rows written through the ORM."""
    table = WebhookEvent.__table__
    return tuple(table.c[name].type._cached_bind_processor(dialect) for name in COLUMNS)


def _parameters(dialect, rows: list[dict]) -> tuple:
    processors = _bind_processors(dialect)
    out = []
    for values in rows:
        for name, process in zip(COLUMNS, processors, strict=True):
            value = values[name]
            out.append(process(value) if process is not None and value is not None else value)
    return tuple(out)


class InboxStorageError(Exception):
    """The database refused or lost an inbox write (the driver's error is the cause)."""


class InboxConnection:
    """The inbox's own autocommitted driver connection, kept open for the life of the process.

    Only a batch's leader writes, one at a time per process, so one connection is enough. Taking
    one from the pool per write, and going through SQLAlchemy's execution and result machinery,
    cost more than the INSERT itself on this path: plain driver calls on a held connection.
    """

    def __init__(self) -> None:
        self._dbapi = None
        self._engine = None
        self._inherited: list = []
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        # The parent's socket: never use it, and never close it from here (that would end the
        # parent's session); keep a reference so garbage collection does not close it either.
        if self._dbapi is not None:
            self._inherited.append(self._dbapi)
        self._dbapi = self._engine = None

    def _discard(self) -> None:
        conn, self._dbapi = self._dbapi, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _connect(self):
        if self._dbapi is not None and self._engine is not db.engine:  # the app was re-created
            self._discard()
        if self._dbapi is None:
            fairy = db.engine.raw_connection()  # the engine's connect hooks (SQLite pragmas) ran
            fairy.detach()  # ours now, never returned to the pool
            db.engine.dialect.set_isolation_level(fairy.dbapi_connection, "AUTOCOMMIT")
            self._dbapi, self._engine = fairy.dbapi_connection, db.engine
        return self._dbapi

    @contextlib.contextmanager
    def cursor(self):
        dbapi = db.engine.dialect.loaded_dbapi
        try:
            cursor = self._connect().cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        except dbapi.Error as exc:
            # A refused row leaves an autocommit connection usable; a lost or broken connection
            # is replaced on the next write.
            if isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError):
                self._discard()
            raise InboxStorageError(f"{type(exc).__name__}: {exc}") from exc


connection = InboxConnection()


@dataclass
class Stored:
    new: list[Pending]  # inserted now: their job is enqueued by the caller
    existing: list[Pending]  # already in the inbox (redelivery); status and job_id tell what to do
    job_id: str | None  # the one job for all new rows of a batch; None: each its own event-<id>


def insert_batch(batch: list[Pending]) -> Stored:
    """One INSERT for the batch; rows that already existed are looked up with one SELECT.

    The same delivery twice in one batch is inserted once; the second copy is a duplicate of the
    first. Autocommitted: the statement is atomic on its own.
    """
    first: dict[tuple[str, str], Pending] = {}
    copies: list[Pending] = []
    for item in batch:
        if item.key in first:
            copies.append(item)
        else:
            first[item.key] = item
    # Several deliveries: one job will process all that turn out new, and each row names it.
    job_id = job_catalog.process_events_id(uuid.uuid4().hex) if len(first) > 1 else None
    for item in first.values():
        item.values["job_id"] = job_id
    dialect = db.engine.dialect
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(dialect.name, len(first)),
                       _parameters(dialect, [item.values for item in first.values()]))
        inserted = {(source, delivery): event_id for event_id, source, delivery in cursor.fetchall()}
        missing = [key for key in first if key not in inserted]
        found = {}
        if missing:
            cursor.execute(_existing_sql(dialect.name, len(missing)), tuple(v for key in missing for v in key))
            found = {(source, delivery): (event_id, status, job) for event_id, source, delivery, status, job
                     in cursor.fetchall()}
    new, existing = [], []
    for key, item in first.items():
        if key in inserted:
            item.event_id, item.status = inserted[key], EventStatus.RECEIVED
            new.append(item)
        else:
            item.event_id, item.status, item.job_id = found[key]
            item.duplicate = True
            existing.append(item)
    for item in copies:  # its job is the one enqueued for the first copy: nothing more to do
        original = first[item.key]
        item.event_id, item.status, item.duplicate = original.event_id, original.status, True
    return Stored(new=new, existing=existing, job_id=job_id)


writer = GroupCommit()
