"""An outgoing e-mail as the notices build it and a :class:`~integration.domain.ports.Mailer` sends it."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import getaddresses


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: envelope and RFC 5322 bytes (CRLF line endings).

    The notification pipeline writes these directly (integration/notices/mime.py);
    an ``EmailMessage`` handed to a mailer is turned into one with :meth:`from_message`."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str = ""
    utf8: bool = False  # a non-ASCII address: the server must offer SMTPUTF8

    @classmethod
    def from_message(cls, message: EmailMessage) -> Outgoing:
        sender = _address(message["Sender"] or message["From"])
        recipients = tuple(_address(a) for a in message.get_all("To", []))
        utf8 = not (sender + "".join(recipients)).isascii()
        return cls(sender=sender, recipients=recipients, data=message.as_bytes(policy=SMTPUTF8 if utf8 else SMTP),
                   message_id=str(message["Message-ID"] or ""), utf8=utf8)


def _address(header: object) -> str:
    found = getaddresses([str(header)]) if header else []
    return found[0][1] if found and found[0][1] else ""
