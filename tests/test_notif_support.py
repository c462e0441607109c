"""Test support for the notification tests (no tests here): a real SMTP server (aiosmtpd) on
loopback whose behaviour can be switched (421, stall, reject), an app whose SMTP_URL points at it,
and signed app-proxy requests."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import urllib.parse
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from connectors.shopify.signatures import proxy_signature
from integration.models.notification import Notification  # noqa: F401 - registers the tables
from tests.conftest import API_SECRET, make_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps what it accepted; its behaviour can be changed at any time."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.mode = "ok"  # ok | 421
        self.reject: set[str] = set()
        self.stalled = threading.Event()  # hold every DATA until cleared
        self.stall_after: int | None = None  # set `stalled` once this many messages were accepted
        self.stall_rcpt = threading.Event()  # hold every RCPT until cleared (before DATA)
        self.in_rcpt = threading.Event()
        self.in_data = threading.Event()  # set while a DATA is being held by a stall
        self.sessions = 0
        self.attempts = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.attempts += 1
        if self.mode == "421":
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stall_rcpt.is_set():
            self.in_rcpt.set()
            while self.stall_rcpt.is_set():
                await asyncio.sleep(0.02)
        if address in self.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Queued first, answered second (like an MTA that commits to its queue before replying):
        # a client that dies while waiting for the answer has still delivered the message.
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            n = len(self.messages)
            if self.stall_after is not None and n > self.stall_after:
                self.stalled.set()  # from the (stall_after + 1)-th message on
        if self.stalled.is_set():
            self.in_data.set()
            while self.stalled.is_set():
                await asyncio.sleep(0.02)
        return f"250 2.0.0 Ok: queued as Q{n:05d}"

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.05)
        return len(self.messages) >= count


class SmtpServer:
    def __init__(self, port: int | None = None, **smtp_kwargs) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.kwargs = smtp_kwargs
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=10"

    def start(self) -> SmtpServer:
        # aiosmtpd traces the protocol at INFO, recipients included: the customer's mail server's
        # log, which stands in for someone else's, not a line the app writes.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.inbox.stalled.clear()
    server.inbox.stall_rcpt.clear()
    server.stop()


def install(app) -> None:
    """The notices' blueprints (create_app registers them and wires the receivers already)."""
    from integration.views import notices_api, proxy_track
    from integration.views import notifications as views

    for blueprint in (views.bp, notices_api.bp, proxy_track.bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)


@pytest.fixture
def notif_app(tmp_path, database_url, redis_url, redis_conn, smtp_server):
    """The app with SMTP_URL pointing at the loopback aiosmtpd server."""
    from integration import create_app
    from integration.extensions import db
    from integration.notices.mailer import close_mailer

    config = make_config(tmp_path, database_url, redis_url, SMTP_URL=smtp_server.url, APP_URL="https://app.example")
    app = create_app(config)
    app.config["TESTING"] = True
    install(app)
    with app.app_context():
        yield app
    close_mailer()
    db.session.remove()
    db.engine.dispose()


def signed_proxy_query(params: dict[str, str], *, shop: str = "acme.myshopify.com", secret: str = API_SECRET) -> str:
    """The query string Shopify's app proxy would send for ``params``."""
    full = {**params, "shop": shop, "timestamp": str(int(time.time())), "path_prefix": "/apps/nearstock",
            "logged_in_customer_id": ""}
    full["signature"] = proxy_signature(full, secret)
    return urllib.parse.urlencode(full)


def proxy_get_from_link(client, link: str, *, extra: dict | None = None, headers: dict | None = None):
    """Follow a storefront link (https://{shop}/apps/nearstock/track?...) as Shopify would forward it."""
    parts = urllib.parse.urlsplit(link)
    assert parts.path.startswith("/apps/nearstock/"), parts.path
    params = dict(urllib.parse.parse_qsl(parts.query))
    params.update(extra or {})
    path = "/proxy/" + parts.path[len("/apps/nearstock/"):]
    return client.get(f"{path}?{signed_proxy_query(params, shop=parts.hostname)}", headers=headers or {})


def worker_env(app, **extra: str) -> dict[str, str]:
    cfg = app.config["NEARSTOCK"]
    return {**os.environ, "NEARSTOCK_ENV": "testing", "DATABASE_URL": cfg.database_url, "REDIS_URL": cfg.redis_url,
            "NEARSTOCK_ENCRYPTION_KEY": ",".join(cfg.encryption_keys), "SECRET_KEY": cfg.secret_key,
            "SHOPIFY_API_KEY": cfg.shopify_api_key, "SHOPIFY_API_SECRET": cfg.shopify_api_secret,
            "APP_URL": cfg.app_url, "SMTP_URL": cfg.smtp_url, "NEARSTOCK_INSTANCE_PATH": str(cfg.instance_path),
            "LOG_LEVEL": "INFO", **extra}  # production's level: what it logs is searched for personal data
