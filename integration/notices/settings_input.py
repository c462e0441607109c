"""What a merchant may set for the shop's notices, checked before it is stored or previewed.

The same rules serve the settings form (``PUT /api/notifications/settings``, a JSON object) and the
live preview (``GET /api/notifications/preview/<kind>?primary_color=...``, query text), so the preview
never shows a value the save would refuse. Every failure names the field and says what is expected.

Why these rules: the sender name goes into the ``From`` header (a line break would add headers),
colours go into CSS and the logo URL into an ``src`` attribute (nothing that could leave the value),
and a logo over plain ``http`` shows as broken or "insecure" in most mail clients.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from integration.notices import outbox as notifications
from integration.notices import render as rendering

MAX_SENDER_NAME = 100
MAX_EMAIL = 254  # RFC 5321's limit for a forward path
MAX_URL = 2048
MAX_ACTION = 1000

BRANDING_FIELDS = ("sender_name", "sender_email", "reply_to", "logo_url", "primary_color", "accent_color")
# What GET /settings answers besides the settings: a client may send it back unchanged.
READ_ONLY_FIELDS = ("kinds",)

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"  # local part: the unquoted characters of RFC 5322
    r"@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_URL_UNSAFE = re.compile(r"[\s\"'<>\\`]")


class InvalidSetting(ValueError):
    """A value the merchant must correct: ``field`` names it, ``message`` says what is expected."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


def _text(field: str, value: Any) -> str | None:
    """A string field; empty (or null) means "use the default"."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidSetting(field, "invalid_type", f"{field} must be text")
    return value.strip() or None


def sender_name(value: Any) -> str | None:
    text = _text("sender_name", value)
    if text is None:
        return None
    if len(text) > MAX_SENDER_NAME:
        raise InvalidSetting("sender_name", "too_long", f"sender_name must be at most {MAX_SENDER_NAME} characters")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidSetting("sender_name", "invalid_text", "sender_name must be one line of plain text")
    return text


def email(field: str, value: Any) -> str | None:
    text = _text(field, value)
    if text is None:
        return None
    if len(text) > MAX_EMAIL or not _EMAIL.match(text) or ".." in text:
        raise InvalidSetting(field, "invalid_email", f"{field} must be an e-mail address like support@example.com")
    return text


def logo_url(value: Any) -> str | None:
    text = _text("logo_url", value)
    if text is None:
        return None
    parts = urlsplit(text) if len(text) <= MAX_URL and not _URL_UNSAFE.search(text) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise InvalidSetting("logo_url", "invalid_logo_url",
                             f"logo_url must be an https:// address of an image (at most {MAX_URL} characters)")
    return text


def color(field: str, value: Any) -> str:
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        raise InvalidSetting(field, "invalid_color", f"{field} must be a hex colour like #1f6feb")
    return value.strip().lower()


def disabled_kinds(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise InvalidSetting("disabled_kinds", "invalid_kinds", "disabled_kinds must be a list of notice kinds")
    unknown = [k for k in value if k not in notifications.KINDS]
    if unknown:
        known = ", ".join(notifications.KINDS)
        raise InvalidSetting("disabled_kinds", "invalid_kinds",
                             f"disabled_kinds: unknown kind {unknown[0][:40]!r}; known: {known}")
    return [k for k in notifications.KINDS if k in value]  # one order, no repeats


def _integer(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSetting(field, "invalid_number", f"{field} must be a whole number from {low} to {high}")
    return value


def exception_actions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidSetting("exception_actions", "invalid_actions",
                             "exception_actions must be an object of reason -> text")
    out = {}
    for reason, text in value.items():
        if reason not in rendering.EXCEPTION_REASONS:
            raise InvalidSetting("exception_actions", "invalid_actions",
                                 f"exception_actions: unknown reason; known: {', '.join(rendering.EXCEPTION_REASONS)}")
        if text is None or (isinstance(text, str) and not text.strip()):
            continue  # cleared: the notice says the default for this reason
        if not isinstance(text, str) or len(text) > MAX_ACTION:
            raise InvalidSetting("exception_actions", "invalid_actions",
                                 f"exception_actions.{reason} must be text of at most {MAX_ACTION} characters")
        out[reason] = text.strip()
    return out


def _one(field: str, value: Any) -> Any:
    if field == "sender_name":
        return sender_name(value)
    if field in ("sender_email", "reply_to"):
        return email(field, value)
    if field == "logo_url":
        return logo_url(value)
    if field in ("primary_color", "accent_color"):
        return color(field, value)
    if field == "disabled_kinds":
        return disabled_kinds(value)
    if field == "quiet_days":
        return _integer(field, value, 1, 60)
    if field == "send_rate_per_minute":
        return _integer(field, value, 1, 100_000)
    return exception_actions(value)


def settings(body: dict[str, Any]) -> dict[str, Any]:
    """The settings a PUT body changes, validated and normalised. An unknown field is refused (a typo
    would otherwise be dropped without a word)."""
    for key in body:
        if key not in notifications.SETTINGS_FIELDS and key not in READ_ONLY_FIELDS:
            name, known = str(key)[:64], ", ".join(notifications.SETTINGS_FIELDS)
            raise InvalidSetting(name, "unknown_field", f"unknown setting {name!r}; known: {known}")
    return {key: _one(key, value) for key, value in body.items() if key in notifications.SETTINGS_FIELDS}


def branding(query: dict[str, str]) -> dict[str, Any]:
    """The unsaved branding a preview shows instead of the saved one: only the fields present."""
    return {key: _one(key, query[key]) for key in BRANDING_FIELDS if key in query}
