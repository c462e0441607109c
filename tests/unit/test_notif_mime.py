"""The notice's wire form (integration/notices/mime.py), read back by the email
package the way a receiving mail client would."""

from __future__ import annotations

from email import message_from_bytes, policy

from integration.notices.mime import Notice, build


def notice(**changes) -> Notice:
    values = {
        "subject": "Ihre Bestellung #1001 ist unterwegs", "sender_name": "Acme Outdoor",
        "sender_email": "no-reply@app.example", "recipient": "claire@example.fr",
        "message_id": "<notice-7.abc@app.example>", "date": "Fri, 20 Nov 2026 08:00:00 +0000",
        "kind_header": "7 shipped", "text": "Hallo Claire,\n\nDein Paket ist unterwegs.\n",
        "html": "<html><body><p>Hallo Claire,</p></body></html>", "lang": "de",
        "reply_to": "support@acme.example",
        "unsubscribe_url": "https://app.example/notifications/unsubscribe/" + "eyJzIjoxfQ." * 12 + "sig",
    }
    values.update(changes)
    return Notice(**values)


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def content(msg, subtype: str) -> str:
    return msg.get_body((subtype,)).get_content().replace("\r\n", "\n")  # the wire's CRLF, as a reader sees it


def test_headers_and_parts_read_back():
    n = notice()
    out = build(n)
    msg = parse(out.data)
    assert (msg["Subject"], msg["To"], msg["Reply-To"]) == (n.subject, n.recipient, n.reply_to)
    assert msg["From"].addresses[0].display_name == "Acme Outdoor"
    assert msg["From"].addresses[0].addr_spec == "no-reply@app.example"
    assert msg["Message-ID"] == n.message_id and msg["Content-Language"] == "de"
    assert msg["X-Nearstock-Notification"] == "7 shipped" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert content(msg, "plain") == n.text
    assert content(msg, "html").rstrip("\n") == n.html
    assert (out.sender, out.recipients, out.message_id, out.utf8) == (
        "no-reply@app.example", ("claire@example.fr",), n.message_id, False)
    assert b"\r\n" in out.data and b"\n" not in out.data.replace(b"\r\n", b"")  # CRLF only


def test_list_unsubscribe_is_one_url_mail_clients_can_read():
    # RFC 2369: "<url>". Encoded words (what the email package wrote for a long URL) are not read.
    url = notice().unsubscribe_url
    raw = build(notice()).data.decode("ascii")
    assert f"\r\nList-Unsubscribe: <{url}>\r\n" in raw
    assert "=?" not in raw.split("\r\nList-Unsubscribe:", 1)[1].split("\r\n", 1)[0]


def test_non_ascii_and_long_text_survive():
    subject = "ご注文#10001を発送しました — " + "とても長い件名 " * 12
    text = "Zeile mit = und Umlauten äöü\n" + "x" * 300 + "\n.punkt am Zeilenanfang\nEnde  \n"
    out = build(notice(subject=subject, sender_name='Café "Zürich"', text=text, html="<p>" + "é" * 500 + "</p>"))
    assert out.data.isascii()  # encoded words and quoted-printable: 7-bit on the wire
    assert max(len(line) for line in out.data.split(b"\r\n")) <= 998  # RFC 5322 hard limit
    msg = parse(out.data)
    assert msg["Subject"] == " ".join(subject.split())
    assert msg["From"].addresses[0].display_name == 'Café "Zürich"'
    assert content(msg, "plain") == text
    assert content(msg, "html").rstrip("\n") == "<p>" + "é" * 500 + "</p>"


def test_no_header_injection_from_shop_data():
    out = build(notice(subject="Hello\r\nBcc: victim@example.com", sender_name="Acme\nX-Evil: 1",
                       reply_to="a@example.com\r\nBcc: b@example.com"))
    msg = parse(out.data)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Subject"] == "Hello Bcc: victim@example.com"


def test_a_non_ascii_address_makes_the_message_smtputf8():
    out = build(notice(recipient="ünïcode@exämple.de", reply_to=None, unsubscribe_url=None))
    assert out.utf8 and out.recipients == ("ünïcode@exämple.de",)
    msg = message_from_bytes(out.data, policy=policy.SMTPUTF8)
    assert msg["To"] == "ünïcode@exämple.de" and "List-Unsubscribe" not in msg and "Reply-To" not in msg


def test_each_message_has_its_own_boundary():
    first, second = build(notice()), build(notice())
    assert parse(first.data).get_boundary() != parse(second.data).get_boundary()


def test_a_non_ascii_subject_is_written_as_the_email_package_writes_it():
    # The short form (one encoded word) is only taken where Header writes exactly that word.
    from email.header import Header

    from integration.notices import render as rendering
    from integration.notices import samples
    from integration.notices.mime import _clean, _unstructured
    from integration.notices.outbox import KINDS

    subjects = {rendering.render(kind, {**samples.sample_context(kind, variant), **extra}, locale=locale,
                                 branding=rendering.SAMPLE_BRANDING).subject
                for kind in KINDS for variant in samples.variants(kind) for locale in rendering.SUPPORTED_LOCALES
                for extra in ({}, {"order_name": "#" + "9" * 30, "product_title": "Tasse — Ünïcödé " * 3})}
    subjects |= {"é", "a" * 55 + "é", "ü" * 40, "x é y", "=?utf-8?q?x?=", "_ ? = é", "\u00a0\u00e9"}
    non_ascii = [s for s in subjects if not s.isascii()]
    assert len(non_ascii) > 60
    for subject in non_ascii:
        written = Header(_clean(subject), "utf-8", header_name="Subject").encode(linesep="\r\n")
        assert _unstructured("Subject", subject) == written, subject
        assert parse(build(notice(subject=subject)).data)["Subject"] == " ".join(subject.split())
