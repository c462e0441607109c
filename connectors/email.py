"""Sending e-mail: SMTP (``SMTP_URL``) or, when none is configured, ``.eml`` files in a folder.

``SMTP_URL`` forms::

    smtp://user:pw@host:587     STARTTLS whenever the server offers it, then AUTH
    smtp://host:25              plain SMTP (STARTTLS still used when offered)
    smtps://user:pw@host:465    implicit TLS (RFC 8314)
    ...?timeout=20&cafile=/etc/ssl/relay.pem    socket timeout (s), extra CA bundle

Credentials are never sent over an unencrypted connection except to a loopback server.

An :class:`SmtpMailer` keeps its connection and reuses it for consecutive sends (a worker draining
the ``notify`` queue sends a batch over one session; :mod:`integration.notices.mailer` keeps one
mailer per process); an idle one is checked with NOOP first and replaced when the server has
dropped it.

Failures map onto :mod:`connectors.errors` so the job layer knows what to do:

* :class:`RetryableError`: cannot connect (refused, timeout, TLS), the server hung up, any 4xx
  reply (greylisting, 421 "try again later", 452 …), 552 to RCPT (RFC 5321 §4.5.3.1.10: treat as
  temporary), authentication refused (a relay configuration problem, fixed by an operator: the
  notices wait instead of being lost).
* :class:`PermanentError`: any other 5xx (550 unknown mailbox, 554 rejected content), an address
  the server cannot take. ``code`` carries the SMTP reply code.

``send`` returns the provider's message id: the text of the server's reply to DATA (Postfix
answers ``2.0.0 Ok: queued as 4Xyz``), or the file name for the ``.eml`` folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTPUTF8
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

from connectors.errors import PermanentError, RetryableError
from connectors.quick_retry import quickly_retried
from integration.domain.mail import Outgoing

log = structlog.get_logger(__name__)

SYSTEM = "smtp"
DEFAULT_TIMEOUT = 30.0
IDLE_CHECK_AFTER = 20.0  # seconds idle after which a kept connection is NOOP-checked before use
MAX_SENDS_PER_CONNECTION = 1000  # some relays cap messages per session; start afresh before that
LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("SMTP_URL names no host")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            timeout=float(query.get("timeout", [DEFAULT_TIMEOUT])[0]),
            cafile=query.get("cafile", [None])[0],
        )


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        self.settings = settings
        self._ssl = ssl_context
        self._local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0
        self._sends = 0

    @classmethod
    def from_url(cls, url: str, **kwargs) -> SmtpMailer:
        return cls(SmtpSettings.from_url(url), **kwargs)

    # -- connection -----------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.settings.cafile)
        return self._ssl

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.implicit_tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context(),
                                                      local_hostname=self._local_hostname)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout, local_hostname=self._local_hostname)
            conn.ehlo()
            tls = s.implicit_tls
            if not tls and conn.has_extn("starttls"):
                conn.starttls(context=self._context())
                conn.ehlo()
                tls = True
            if s.username:
                if not tls and s.host not in LOOPBACK:
                    conn.close()
                    raise RetryableError(f"{s.host} offers no TLS: refusing to send the SMTP password in clear",
                                         system=SYSTEM, operation="connect")
                conn.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise RetryableError(f"authentication refused ({exc.smtp_code})", system=SYSTEM, operation="auth",
                                 retry_after=300) from None
        except smtplib.SMTPResponseException as exc:  # e.g. 421 in the greeting
            raise RetryableError(f"{exc.smtp_code} {_text(exc.smtp_error)}", system=SYSTEM,
                                 operation="connect") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, timeout, TLS, hang-up
            raise RetryableError(f"cannot connect to {s.host}:{s.port}: {exc!r}", system=SYSTEM,
                                 operation="connect") from None
        self._sends = 0
        return conn

    def _connection(self) -> smtplib.SMTP:
        conn = self._conn
        if conn is not None and self._sends >= MAX_SENDS_PER_CONNECTION:
            self.close()
            conn = None
        if conn is not None and time.monotonic() - self._last_used > IDLE_CHECK_AFTER:
            try:
                if conn.noop()[0] != 250:
                    raise smtplib.SMTPServerDisconnected("noop refused")
            except (OSError, smtplib.SMTPException):
                self._drop()
                conn = None
        if conn is None:
            conn = self._conn = self._connect()
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    # -- sending ------------------------------------------------------------------------------------

    def send(self, message: EmailMessage | Outgoing, *, before_data: Callable[[], None] | None = None) -> str:
        """Send one message; ``before_data`` runs right before the DATA command (the point after
        which the server may have the message even if we never see its answer). A 4xx answer (the
        server did not take it) is tried again at once, twice at most (connectors/quick_retry.py)."""
        out = message if isinstance(message, Outgoing) else Outgoing.from_message(message)
        if not out.sender or not out.recipients or not all(out.recipients):
            raise PermanentError("message has no sender or recipient", system=SYSTEM, operation="send")
        return quickly_retried(lambda: self._send_once(out, before_data), repeatable=False)

    def _send_once(self, out: Outgoing, before_data: Callable[[], None] | None) -> str:
        reached_data = False

        def at_data() -> None:
            nonlocal reached_data
            reached_data = True
            if before_data is not None:
                before_data()

        for attempt in (1, 2):
            fresh = self._conn is None
            conn = self._connection()
            try:
                return self._transaction(conn, out, at_data)
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                # A kept connection the server had silently closed fails before DATA: one new
                # connection, one more try. After DATA the server may have the message: no resend
                # here (the job's retry decides, and the stable Message-ID lets receivers dedupe).
                if fresh or reached_data or attempt == 2 or not isinstance(exc, smtplib.SMTPServerDisconnected):
                    raise RetryableError(f"connection failed during send: {exc!r}", system=SYSTEM,
                                         operation="data" if reached_data else "send") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(self, conn: smtplib.SMTP, out: Outgoing, before_data: Callable[[], None] | None) -> str:
        if out.utf8 and not conn.has_extn("smtputf8"):
            raise PermanentError("non-ASCII address and the server has no SMTPUTF8", system=SYSTEM,
                                 operation="mail", code="553")
        options = ["SMTPUTF8", "BODY=8BITMIME"] if out.utf8 else []
        code, reply = conn.mail(out.sender, options)
        if code != 250:
            self._reset(conn)
            raise _classify(code, reply, "mail")
        for rcpt in out.recipients:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                self._reset(conn)
                raise _classify(code, reply, "rcpt")
        if before_data is not None:
            before_data()
        code, reply = conn.data(out.data)
        self._last_used = time.monotonic()
        self._sends += 1
        if code != 250:
            raise _classify(code, reply, "data")
        return _text(reply)[:255]

    def _reset(self, conn: smtplib.SMTP) -> None:
        try:
            conn.rset()
            self._last_used = time.monotonic()
        except (OSError, smtplib.SMTPException):
            self._drop()


def _classify(code: int, reply: bytes | str, stage: str) -> Exception:
    text = f"{code} {_text(reply)}"[:500]
    if 400 <= code < 500 or (stage == "rcpt" and code == 552) or code == -1:
        # An answer of 4xx, even to DATA, says the server did not take the message; -1 is no answer.
        return RetryableError(text, system=SYSTEM, operation=stage, refused=code != -1)
    return PermanentError(text, system=SYSTEM, operation=stage, code=str(code))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class FileMailer:
    """Development outbox: each message becomes ``<folder>/<message-id>.eml`` (written whole, then
    renamed into place, so a reader never sees half a file; sending the same message again
    replaces its file instead of adding one)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage | Outgoing, *, before_data: Callable[[], None] | None = None) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        if isinstance(message, EmailMessage):
            data, message_id = message.as_bytes(policy=SMTPUTF8), str(message["Message-ID"] or "")
        else:
            data, message_id = message.data, message.message_id
        local = re.sub(r"[^A-Za-z0-9._-]", "_", message_id.strip("<>"))[:150]
        name = f"{time.strftime('%Y%m%d')}-{local or os.urandom(8).hex()}.eml"
        for existing in self.folder.glob(f"*-{local}.eml") if local else ():
            name = existing.name  # a re-send replaces the earlier file
        if before_data is not None:
            before_data()
        tmp = self.folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / name)
        return name

    def close(self) -> None:
        """Nothing is held open between messages."""
