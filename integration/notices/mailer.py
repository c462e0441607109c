"""Chooses the notices' mail transport: SMTP when ``SMTP_URL`` is set, else the ``.eml`` outbox
folder. One mailer per process (and per thread), so its SMTP connection is reused across sends."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from connectors.email import FileMailer, SmtpMailer
from integration.domain.ports import Mailer

_local = threading.local()


def mailer_for(smtp_url: str, outbox_path: Path) -> Mailer:
    """The process's mailer for this configuration; its SMTP connection is reused across sends."""
    key = (smtp_url, str(outbox_path))
    cached = getattr(_local, "mailer", None)
    if cached is not None and cached[0] == key and cached[2] == os.getpid():
        return cached[1]
    if cached is not None and cached[2] == os.getpid():
        cached[1].close()  # (after a fork the socket is the parent's: leave it alone)
    mailer: Mailer = SmtpMailer.from_url(smtp_url, local_hostname=_fqdn()) if smtp_url else FileMailer(outbox_path)
    _local.mailer = (key, mailer, os.getpid())
    return mailer


def close_mailer() -> None:
    cached = getattr(_local, "mailer", None)
    if cached is not None and cached[2] == os.getpid():
        cached[1].close()
    _local.mailer = None


def _fqdn() -> str:
    # smtplib asks the resolver for the FQDN on every connection; once per process is enough.
    name = getattr(_local, "fqdn", None)
    if name is None:
        name = _local.fqdn = socket.getfqdn()
    return name
