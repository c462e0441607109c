"""Sending outbox rows: re-read, drop if stale, render, claim, send, mark sent. Once each.

Claim protocol (what keeps a crash from sending twice in normal operation):

1. A send job claims its notices in one statement, committed before the first is sent:
   ``UPDATE notifications SET status='sending', claim_token=:t, claimed_at=now, attempts+1
   WHERE id IN (:ids) AND (status='queued' OR (status='sending' AND claimed_at < now -
   CLAIM_TIMEOUT)) RETURNING id``. A notice not returned belongs to another worker, or is done:
   this job leaves it alone.
2. Right before the SMTP DATA command of a notice, a marker ``notify:data:<id>`` = claim token is
   written to Redis: from then on the server may have that message even if we never hear its answer.
   The server's answer to the previous notice is added to that notice's marker in the same round
   trip (``<token>\n<answer>``).
3. ``UPDATE ... SET status='sent', provider_message_id=... WHERE id=:id AND claim_token=:t``, for a
   few sent notices at a time (one statement, one commit) and for the rest when the job ends.

A worker killed between 1 and 3 leaves ``sending`` rows. After ``CLAIM_TIMEOUT`` they are
re-examined (by the sweeper): without the DATA marker the message never reached the server and is
sent again; with a marker carrying the server's answer the row is marked ``sent`` as usual; with a
bare marker it is marked ``sent`` with ``error_kind = "unconfirmed"`` (handed over, answer unknown)
instead of risking a duplicate. The Message-ID is derived from the notification id, so even a
resend after an ambiguous network failure carries the same id (receivers dedupe).

A job that stops without being killed (a temporary failure, its timeout, a bug) hands its claimed
notices whose DATA never started back as ``queued`` (their attempt not counted) before it ends,
so they do not wait for the claim to go stale.

Why one claim per job rather than per notice: per notice, the claim and its commit (plus taking a
database connection for it) were a fifth of a worker's CPU per message; the price is that a killed
worker's unsent notices wait ``CLAIM_TIMEOUT`` instead of ``SWEEP_AFTER`` before they go out.

What the notices share is read once per job (:mod:`integration.notices.prefetch`), the shop's rate-limit
tokens are taken a few at a time, and the SMTP connection is the process's
(:func:`integration.notices.mailer.mailer_for`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from flask import current_app
from sqlalchemy import bindparam, case, false, select, true, update

from connectors.errors import PermanentError, RetryableError
from connectors.ratelimit import TokenBucket
from integration.domain.ports import Mailer
from integration.extensions import db, redis
from integration.models import Order
from integration.models.base import utcnow
from integration.models.notification import Notification, NotificationStatus
from integration.notices import outbox as notifications
from integration.notices import prefetch, required_context
from integration.notices.compose import build_message, message_id
from integration.notices.mailer import mailer_for
from integration.notices.triggers import stale_reason

log = structlog.get_logger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)  # > the send job's timeout: a live claim is never taken over
# Temporary failures, counted across job retries and sweeps: one job's attempts and three more
# for the sweeper, then failed.
MAX_ATTEMPTS = len(notifications.SEND_RETRY) + 3
MARKER_TTL = 2 * 24 * 3600  # well past CLAIM_TIMEOUT + a sweep: only a stale claim ever reads it
RATE_WAIT = 20.0  # seconds a notice may wait for its shop's rate limit; longer: RetryableError

_T = Notification.__table__
# Built once: a statement object reused with new parameters skips SQLAlchemy's per-call
# construction and cache-key work (the bulk of a small UPDATE's client-side cost).
# The claim's status test is a CASE, not "status = 'queued' OR ...": PostgreSQL would answer that
# with the (status, created_at) index, reading every queued and sending entry of the table, dead
# ones included until a vacuum (measured: 5 ms of server CPU per claim after 5,000 notices, and
# growing), where the batch's twenty ids are twenty primary-key lookups.
_CLAIM = _T.update().where(
    _T.c.id.in_(bindparam("nids", expanding=True)),
    case((_T.c.status == NotificationStatus.QUEUED, true()),
         (_T.c.status == NotificationStatus.SENDING, _T.c.claimed_at < bindparam("stale_before")), else_=false()),
).values(status=NotificationStatus.SENDING, claim_token=bindparam("token"), claimed_at=bindparam("at"),
         attempts=_T.c.attempts + 1, updated_at=bindparam("at")).returning(_T.c.id)
_SENT = _T.update().where(_T.c.id == bindparam("nid"), _T.c.claim_token == bindparam("token")).values(
    status=NotificationStatus.SENT, updated_at=bindparam("at"), sent_at=bindparam("at"),
    message_id=bindparam("mid"), provider_message_id=bindparam("provider"), error_kind=None, last_error=None)
# Claimed, DATA never started: back to the queue, this attempt not counted (it was never tried).
_UNCLAIM = _T.update().where(
    _T.c.id.in_(bindparam("nids", expanding=True)), _T.c.claim_token == bindparam("token"),
    _T.c.status == NotificationStatus.SENDING,
).values(status=NotificationStatus.QUEUED, claim_token=None, claimed_at=None, updated_at=bindparam("at"),
         attempts=_T.c.attempts - 1)

# Sent notices marked per statement. A killed worker's unmarked ones are recorded from their DATA
# markers (which carry the server's answer), so this bounds database work, not precision.
MARKS_PER_COMMIT = 10


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | skipped | failed | busy | gone | unconfirmed
    detail: str = ""


def marker_key(notification_id: int) -> str:
    return f"nearstock:notify:data:{notification_id}"


def send_notification(notification_id: int, *, now: datetime | None = None) -> Outcome:
    """Deliver one notice (the body of ``jobs.notify.send_notification``).

    Raises :class:`RetryableError` for temporary failures (the row is back to ``queued``; RQ retries
    with backoff). Permanent failures are recorded on the row and not raised."""
    batch = Batch([notification_id], now=now)
    try:
        return batch.send(notification_id)
    finally:
        batch.close()


class Batch:
    """The notices of one send job, claimed together when it starts. :meth:`send` each id in turn
    (it behaves as :func:`send_notification` does for that id), then :meth:`close` (also after an
    exception: it marks what was sent and gives back what was not)."""

    def __init__(self, notification_ids: list[int], *, now: datetime | None = None) -> None:
        self.now = now
        self.found = prefetch.load(list(notification_ids))
        self._pending: dict[int, int] = {}  # shop id -> notices of the batch not yet sent
        for n in self.found.rows.values():
            self._pending[n.shop_id] = self._pending.get(n.shop_id, 0) + 1
        self._tokens: dict[int, int] = {}  # shop id -> rate-limit tokens taken and not yet used
        self._marks: list[dict] = []  # sent notices whose "sent" UPDATE has not run yet
        self.token = secrets.token_hex(16)
        self._unsent: set[int] = set()  # claimed by this job, DATA not started
        self._answered: tuple[int, str] | None = None  # last sent notice: its answer, for its marker
        self._mailer: Mailer | None = None  # the process's (mailer_for), looked up once per job
        self._claim()

    def _claim(self) -> None:
        now = self.now or utcnow()
        stale_before = now - CLAIM_TIMEOUT
        stale = [n for n in self.found.rows.values()
                 if n.status == NotificationStatus.SENDING and n.claimed_at and n.claimed_at < stale_before]
        # A stale claim whose DATA had started is not taken: send() marks it sent, never resends it.
        markers = redis.client.mget([marker_key(n.id) for n in stale]) if stale else []
        handed_over = {n.id for n, m in zip(stale, markers, strict=True)
                       if _marker_answer(m, n.claim_token) is not None}
        wanted = [n.id for n in self.found.rows.values()
                  if n.id not in handed_over and (n.status == NotificationStatus.QUEUED or n in stale)]
        if wanted:
            at = utcnow()
            claimed = set(db.session.connection().execute(_CLAIM, {
                "nids": wanted, "stale_before": stale_before, "token": self.token, "at": at}).scalars())
            db.session.commit()
            for nid in claimed:
                n = self.found.rows[nid]
                n.status, n.claim_token, n.claimed_at = NotificationStatus.SENDING, self.token, at
            self._unsent = claimed

    def send(self, notification_id: int) -> Outcome:
        n = self.found.rows.get(notification_id)
        if n is None:
            return Outcome("gone")
        self._pending[n.shop_id] -= 1
        outcome = self._send(n)
        if outcome.status in (*NotificationStatus.DONE, "unconfirmed"):
            # The same id twice in one batch: the second time it is done.
            n.status = NotificationStatus.SENT if outcome.status == "unconfirmed" else outcome.status
            n.claim_token = None
        if len(self._marks) >= MARKS_PER_COMMIT or not self._unsent:
            self.flush()
        return outcome

    def flush(self) -> None:
        """Mark the sent notices sent (one statement, one commit)."""
        if self._marks:
            db.session.connection().execute(_SENT, self._marks)
            db.session.commit()
            self._marks = []

    def release(self, notification_ids: list[int] | None = None) -> list[int]:
        """Give claimed notices whose DATA never started back to the queue (all of them by
        default); returns their ids, for the caller to schedule."""
        ids = sorted(self._unsent if notification_ids is None else self._unsent.intersection(notification_ids))
        if ids:
            db.session.rollback()  # whatever failed may have left the transaction unusable
            db.session.connection().execute(_UNCLAIM, {"nids": ids, "token": self.token, "at": utcnow()})
            db.session.commit()
            self._unsent.difference_update(ids)
            for nid in ids:
                self.found.rows[nid].status = NotificationStatus.QUEUED
        return ids

    def close(self) -> None:
        """End of the job, normal or not: marks what was sent, gives back what was not."""
        try:
            try:
                self.flush()
            except Exception:  # the failure that ended the job may have broken the transaction
                db.session.rollback()
                self.flush()
        finally:
            self.release()

    def _send(self, n: Notification) -> Outcome:
        now = self.now or utcnow()
        t0 = time.perf_counter()
        if n.id not in self._unsent:
            return self._not_ours(n, now)
        reason = self._drop_reason(n)
        if reason:
            self._done(n.id)
            _skip(n, reason, now)
            return Outcome("skipped", reason)
        shop = self.found.shops[n.shop_id]
        try:
            message = build_message(n, shop, self._order(n))
        except Exception as exc:  # a template bug must not loop: record it, the merchant sees it
            log.exception("notice.render_failed", notification_id=n.id)
            self._done(n.id)
            _fail_unclaimed(n, f"render failed: {exc!r}", now)
            return Outcome("failed", "render")
        t_render = time.perf_counter()
        try:
            self._take_rate(n.shop_id)
        except RetryableError:
            self.release([n.id])  # the caller schedules it for later
            raise

        if self._mailer is None:
            config = current_app.config["NEARSTOCK"]
            self._mailer = mailer_for(config.smtp_url, config.outbox_path)
        mailer = self._mailer
        key, token = marker_key(n.id), self.token

        def before_data() -> None:
            if self._answered is None:
                redis.client.set(key, token, ex=MARKER_TTL)
            else:  # one round trip: this notice handed over, the previous one answered
                previous, answer = self._answered
                redis.client.pipeline(transaction=False).set(
                    marker_key(previous), f"{token}\n{answer}", ex=MARKER_TTL).set(key, token, ex=MARKER_TTL).execute()
            self._answered = None
            self._unsent.discard(n.id)  # from here on the server may have it: never given back

        try:
            provider_id = mailer.send(message, before_data=before_data)
        except RetryableError as exc:
            self._done(n.id)
            attempts = _release(n.id, token, str(exc))
            if attempts >= MAX_ATTEMPTS:
                _finish(n.id, None, status=NotificationStatus.FAILED, error_kind="temporary",
                        error=f"gave up after {attempts} attempts: {exc}")
                return Outcome("failed", "attempts exhausted")
            log.warning("notice.retry", notification_id=n.id, error=str(exc), attempts=attempts)
            raise
        except PermanentError as exc:
            self._done(n.id)
            _finish(n.id, token, status=NotificationStatus.FAILED, error_kind="permanent", error=str(exc))
            log.warning("notice.failed", notification_id=n.id, error=str(exc))
            return Outcome("failed", str(exc))
        provider = (provider_id or None) and provider_id[:255]
        self._marks.append({"nid": n.id, "token": token, "at": utcnow(), "mid": message.message_id,
                            "provider": provider})
        self._answered = (n.id, provider or "accepted")
        log.info("notice.sent", notification_id=n.id, kind=n.kind, render_ms=round((t_render - t0) * 1000, 1),
                 smtp_ms=round((time.perf_counter() - t_render) * 1000, 1))
        return Outcome("sent", provider_id)

    def _done(self, notification_id: int) -> None:
        """This notice's row is settled by a statement of its own: commit the marks before it."""
        self._unsent.discard(notification_id)
        self.flush()

    def _not_ours(self, n: Notification, now: datetime) -> Outcome:
        """A notice this job did not claim: done, claimed by a live worker, or handed to the server
        by a worker that stopped before marking it."""
        if n.status in NotificationStatus.DONE:
            return Outcome(n.status, "already done")
        if n.status == NotificationStatus.SENDING and n.claim_token != self.token:
            if n.claimed_at and n.claimed_at > now - CLAIM_TIMEOUT:
                return Outcome("busy", "claimed by another worker")
            answer = _marker_answer(redis.client.get(marker_key(n.id)), n.claim_token)
            if answer:  # the server accepted it; the worker stopped before recording that
                self.flush()
                _finish(n.id, n.claim_token, status=NotificationStatus.SENT, provider_id=answer,
                        message_id=message_id(n.id))
                log.info("notice.sent_recorded_late", notification_id=n.id)
                return Outcome("sent", answer)
            if answer is not None:
                self.flush()
                _finish(n.id, n.claim_token, status=NotificationStatus.SENT, error_kind="unconfirmed",
                        error="worker stopped after handing the message to the server; not sent again",
                        message_id=message_id(n.id))
                log.warning("notice.unconfirmed", notification_id=n.id)
                return Outcome("unconfirmed")
        return Outcome("busy", "lost the claim")

    def _order(self, n: Notification) -> Order | None:
        order_id = (n.context or {}).get("order_id")
        try:
            return self.found.orders.get(int(order_id)) if order_id else None
        except (TypeError, ValueError):
            return None

    def _drop_reason(self, n: Notification) -> str | None:
        if not n.recipient:
            return "redacted"
        reason = notifications.skip_reason(n.shop_id, n.kind, n.recipient,
                                           sender=self.found.notices_by.get(n.shop_id, "nearstock"),
                                           opt_outs=self.found.opt_outs(n.shop_id, n.recipient))
        if reason:
            return reason
        wrong = required_context.problems(n.kind, n.context)
        if wrong:  # rendered, it would say nothing sensible: the log line says what is missing
            log.warning("notice.bad_context", notification_id=n.id, kind=n.kind, keys=wrong)
            return "bad_context"
        if n.kind not in notifications.TRACKING_KINDS:
            return None
        shipment_id = (n.context or {}).get("shipment_id")
        try:
            shipment = self.found.shipments.get(int(shipment_id)) if shipment_id else None
        except (TypeError, ValueError):
            shipment = None
        if shipment is None:
            return None
        return stale_reason(n.kind, n.context or {}, shipment.status, shipment.status_reason, shipment.status_at)

    def _take_rate(self, shop_id: int) -> None:
        """One token of the shop's send rate per notice, taken from Redis a few at a time: as many
        as this batch still has for the shop, up to the bucket's burst."""
        if self._tokens.get(shop_id, 0) <= 0:
            rate = notifications.settings_for(shop_id).send_rate_per_minute or 600
            burst = max(1.0, min(rate / 6.0, 100.0))
            bucket = TokenBucket(redis.client, f"nearstock:ratelimit:email:{shop_id}", rate=rate / 60.0, burst=burst)
            want = max(1, min(self._pending.get(shop_id, 0) + 1, int(burst)))
            if want == 1 or bucket.try_take(want) > 0:
                # Not that many free now: wait for one, as a single notice would (never longer).
                want = 1
                bucket.take(1, max_wait=RATE_WAIT)  # longer: RetryableError with retry_after, RQ waits for us
            self._tokens[shop_id] = want
        self._tokens[shop_id] -= 1


def _marker_answer(marker: bytes | None, claim_token: str | None) -> str | None:
    """What a DATA marker says for this claim: None (no DATA under it), "" (handed to the server,
    answer unknown) or the server's answer."""
    if marker is None or not claim_token:
        return None
    token, _, answer = marker.decode().partition("\n")
    return answer if token == claim_token else None


def _finish(notification_id: int, token: str | None, *, status: str, provider_id: str | None = None,
            error_kind: str | None = None, error: str | None = None, message_id: str | None = None) -> None:
    where = [Notification.id == notification_id]
    if token is not None:
        where.append(Notification.claim_token == token)
    values: dict = {"status": status, "updated_at": utcnow(), "error_kind": error_kind, "last_error": error}
    if status == NotificationStatus.SENT:
        values.update(sent_at=utcnow(), provider_message_id=(provider_id or None) and provider_id[:255])
    if message_id:
        values["message_id"] = message_id
    db.session.execute(update(Notification).where(*where).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _release(notification_id: int, token: str, error: str) -> int:
    """Temporary failure: back to queued for the next attempt; returns the attempts so far."""
    db.session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.claim_token == token)
        .values(status=NotificationStatus.QUEUED, claim_token=None, claimed_at=None, last_error=error[:2000],
                error_kind="temporary", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.execute(select(Notification.attempts).where(Notification.id == notification_id)).scalar() or 0


def _skip(n: Notification, reason: str, now: datetime) -> None:
    db.session.execute(
        update(Notification).where(Notification.id == n.id, Notification.status.in_(
            (NotificationStatus.QUEUED, NotificationStatus.SENDING)))
        .values(status=NotificationStatus.SKIPPED, error_kind=reason[:16], last_error=reason, claim_token=None,
                updated_at=now).execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.info("notice.dropped", notification_id=n.id, kind=n.kind, reason=reason)


def _fail_unclaimed(n: Notification, error: str, now: datetime) -> None:
    db.session.rollback()
    db.session.execute(
        update(Notification).where(Notification.id == n.id, Notification.status.in_(
            (NotificationStatus.QUEUED, NotificationStatus.SENDING)))
        .values(status=NotificationStatus.FAILED, error_kind="render", last_error=error[:2000], updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
