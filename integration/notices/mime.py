"""The wire form of a notice: RFC 5322 bytes written directly, not through ``email.message``.

``EmailMessage`` parses every header it is given into a header object (a new class per header)
and re-folds each one when the message is turned into bytes: measured at ~2 ms of the ~3 ms it
took to build and serialise one notice, more than rendering it. A notice always has the same
shape (a handful of headers we write ourselves, ``multipart/alternative`` of text and HTML,
both quoted-printable UTF-8), so it is written here in a few string operations instead:

* headers: ASCII text as is; non-ASCII text (subject, display names) as RFC 2047 encoded words
  (one word when it fits the line, else :class:`email.header.Header`, which folds long ones; both
  write the same word when it fits); an address is never encoded — a
  non-ASCII address makes the message SMTPUTF8 (``Outgoing.utf8``), as ``policy.SMTPUTF8`` did.
  ``List-Unsubscribe`` is written whole (RFC 2369 wants ``<url>``; encoded words there, which
  the email package produced for the long one-click URL, are not understood by mail clients).
* bodies: ``binascii.b2a_qp`` over CRLF lines (C code); the boundary contains ``==``, which
  quoted-printable output can never contain, so it cannot collide with a body.
* CR and LF are removed from every header value (no header injection from a shop name).

``tests/unit/test_notif_mime.py`` parses the result back with the email package.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.charset import Charset
from email.header import Header

from integration.domain.mail import Outgoing

MAX_HEADER = 78  # RFC 5322 2.1.1: lines SHOULD be no longer than 78 characters
_UTF8 = Charset("utf-8")


@dataclass(frozen=True)
class Notice:
    """Everything the wire form needs (built by notification_send from the row and the shop)."""

    subject: str
    sender_name: str
    sender_email: str
    recipient: str
    message_id: str
    date: str  # RFC 5322 date-time
    kind_header: str  # X-Nearstock-Notification
    text: str
    html: str
    lang: str
    reply_to: str | None = None
    unsubscribe_url: str | None = None


def _clean(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _unstructured(name: str, value: str) -> str:
    value = _clean(value)
    if value.isascii():
        if len(name) + 2 + len(value) <= MAX_HEADER:
            return value
    else:
        # One encoded word, when it fits on the header's line, is what Header writes then too
        # (tests/unit/test_notif_mime.py compares them), without Header's folding machinery.
        word = _UTF8.header_encode(value)
        if len(name) + 2 + len(word) <= MAX_HEADER:
            return word
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep="\r\n")


def _mailbox(name: str | None, address: str) -> str:
    address = _clean(address)
    name = _clean(name or "")
    if not name:
        return address
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{_UTF8.header_encode(name)} <{address}>"


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"), istext=True)
    # b2a_qp ends its soft line breaks the way the input's first line ends: "\n" here, always.
    return encoded.replace(b"\n", b"\r\n")


def build(notice: Notice) -> Outgoing:
    headers = [
        ("Subject", _unstructured("Subject", notice.subject)),
        ("From", _mailbox(notice.sender_name, notice.sender_email)),
        ("To", _mailbox(None, notice.recipient)),
    ]
    if notice.reply_to:
        headers.append(("Reply-To", _mailbox(None, notice.reply_to)))
    headers += [
        ("Date", notice.date),
        ("Message-ID", _clean(notice.message_id)),
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no auto-replies to notices
        ("X-Nearstock-Notification", _clean(notice.kind_header)),
    ]
    if notice.unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this URL.
        headers.append(("List-Unsubscribe", f"<{_clean(notice.unsubscribe_url)}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    boundary = f"==nearstock-{secrets.token_hex(12)}=="
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative;\r\n boundary="{boundary}"'),
        ("Content-Language", _clean(notice.lang)),
    ]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    utf8 = not head.isascii()  # only an address can make it so; it needs SMTPUTF8 either way
    part = (b'--%s\r\nContent-Type: text/%s; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    marker = boundary.encode()
    data = b"".join((
        head.encode("utf-8"), b"\r\n",
        part % (marker, b"plain"), _qp(notice.text), b"\r\n",
        part % (marker, b"html"), _qp(notice.html), b"\r\n",
        b"--%s--\r\n" % marker,
    ))
    recipients = (_clean(notice.recipient),)
    return Outgoing(sender=_clean(notice.sender_email), recipients=recipients, data=data,
                    message_id=_clean(notice.message_id), utf8=utf8)
