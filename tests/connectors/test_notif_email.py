"""connectors/email.py against a real SMTP server (aiosmtpd): STARTTLS + AUTH, implicit TLS,
connection reuse, and how each failure is classified."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import time
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.email import FileMailer, SmtpMailer, SmtpSettings
from connectors.errors import PermanentError, RetryableError
from tests.test_notif_support import SmtpServer, free_port, smtp_server  # noqa: F401 - fixture


def message(to="buyer@example.com", n=1) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Acme <no-reply@app.example>"
    msg["To"] = to
    msg["Subject"] = f"Test {n}"
    msg["Message-ID"] = f"<notice-{n}.abc@app.example>"
    msg.set_content("hello")
    return msg


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1; the server context and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, str(cert_path)


def authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == b"s3cret")


def test_url_forms():
    s = SmtpSettings.from_url("smtp://us%40er:p%3Aw@mail.example:2525?timeout=7")
    assert (s.host, s.port, s.username, s.password, s.implicit_tls, s.timeout) == (
        "mail.example", 2525, "us@er", "p:w", False, 7.0)
    assert SmtpSettings.from_url("smtps://relay.example").port == 465
    assert SmtpSettings.from_url("smtp://relay.example").port == 587
    with pytest.raises(ValueError):
        SmtpSettings.from_url("http://relay.example")


def test_starttls_and_auth_when_offered(tls):
    server_ctx, cafile = tls
    server = SmtpServer(tls_context=server_ctx, require_starttls=True, authenticator=authenticator,
                        auth_require_tls=True).start()
    try:
        mailer = SmtpMailer.from_url(f"smtp://mailer:s3cret@127.0.0.1:{server.port}?cafile={cafile}")
        reply = mailer.send(message())
        assert reply.endswith("queued as Q00001")
        assert server.inbox.messages[0]["Subject"] == "Test 1"
        mailer.close()
        # Refused credentials are an operator's problem: the notices wait (retry), they are not lost.
        wrong = SmtpMailer.from_url(f"smtp://mailer:nope@127.0.0.1:{server.port}?cafile={cafile}&timeout=3")
        with pytest.raises(RetryableError):
            wrong.send(message())
    finally:
        server.stop()


def test_implicit_tls(tls):
    server_ctx, cafile = tls
    server = SmtpServer(ssl_context=server_ctx).start()
    try:
        mailer = SmtpMailer.from_url(f"smtps://127.0.0.1:{server.port}?cafile={cafile}")
        mailer.send(message())
        assert len(server.inbox.messages) == 1
        mailer.close()
        # A certificate we do not trust is a (temporary) connection failure, never a silent downgrade.
        untrusting = SmtpMailer.from_url(f"smtps://127.0.0.1:{server.port}")
        with pytest.raises(RetryableError):
            untrusting.send(message())
    finally:
        server.stop()


def test_connection_is_reused_across_sends(smtp_server):  # noqa: F811
    mailer = SmtpMailer.from_url(smtp_server.url)
    before_data = []
    for n in range(5):
        mailer.send(message(n=n), before_data=lambda: before_data.append(1))
    assert len(smtp_server.inbox.messages) == 5 and smtp_server.inbox.sessions == 1
    assert len(before_data) == 5
    # The server drops the connection while idle: the next send reconnects once, transparently.
    mailer._conn.sock.close()
    mailer.send(message(n=9))
    assert len(smtp_server.inbox.messages) == 6
    mailer.close()


def test_failures_are_classified(smtp_server, monkeypatch):  # noqa: F811
    slept: list[float] = []
    monkeypatch.setattr("connectors.quick_retry.time.sleep", slept.append)
    mailer = SmtpMailer.from_url(smtp_server.url)
    smtp_server.inbox.mode = "421"
    with pytest.raises(RetryableError, match="421") as refused:
        mailer.send(message())
    # The server did not take it: tried again at once, twice, then handed to the job's retry.
    assert refused.value.refused and smtp_server.inbox.attempts == 3 and slept == [0.5, 1.0]
    smtp_server.inbox.mode = "ok"
    smtp_server.inbox.reject.add("nobody@example.com")
    with pytest.raises(PermanentError, match="550") as exc:
        mailer.send(message(to="nobody@example.com"))
    assert exc.value.code == "550"
    mailer.send(message())  # the session survived both (RSET)
    assert len(smtp_server.inbox.messages) == 1
    closed = SmtpMailer.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")
    with pytest.raises(RetryableError, match="cannot connect"):
        closed.send(message())


def test_a_passing_4xx_is_retried_inside_the_send_and_the_message_sent_once(smtp_server, monkeypatch):  # noqa: F811
    monkeypatch.setattr("connectors.quick_retry.time.sleep", lambda _: None)
    mailer = SmtpMailer.from_url(smtp_server.url)
    markers: list[int] = []
    tries: list[str] = []
    real_mail = smtp_server.inbox.handle_MAIL

    async def refuse_once(server, session, envelope, address, mail_options):
        tries.append(address)
        if len(tries) == 1:  # the relay's hiccup
            return "421 4.3.2 Service not available, try again later"
        return await real_mail(server, session, envelope, address, mail_options)

    smtp_server.inbox.handle_MAIL = refuse_once
    mailer.send(message(), before_data=lambda: markers.append(1))
    assert len(tries) == 2 and len(smtp_server.inbox.messages) == 1 and markers == [1]
    mailer.close()


def test_file_mailer_writes_one_eml_per_message(tmp_path):
    mailer = FileMailer(tmp_path / "outbox")
    name = mailer.send(message(n=7))
    again = mailer.send(message(n=7))
    assert name == again and name.endswith("notice-7.abc_app.example.eml")
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and b"Subject: Test 7" in files[0].read_bytes()


def test_a_session_the_server_timed_out_is_reopened_and_the_message_sent_once():
    # aiosmtpd closes a session idle for `timeout` seconds (with a 421, as Postfix's smtpd_timeout
    # does); the kept connection looks fine until used.
    server = SmtpServer(timeout=0.5).start()
    try:
        mailer = SmtpMailer.from_url(server.url)
        mailer.send(message(n=1))
        time.sleep(1.5)
        data_reached = []
        reply = mailer.send(message(n=2), before_data=lambda: data_reached.append(1))
        assert reply.endswith("queued as Q00002") and data_reached == [1]
        assert [m["Message-ID"] for m in server.inbox.messages] == ["<notice-1.abc@app.example>",
                                                                    "<notice-2.abc@app.example>"]
        assert server.inbox.sessions == 2
        mailer.close()
    finally:
        server.stop()
