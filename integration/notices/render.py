"""Rendering notices: Jinja2 templates, Babel catalogs, localized dates and money, inlined CSS.

* Templates: ``integration/templates/notifications/<kind>.html`` (one per kind, extending
  ``_layout.html``; the subject is the template's ``subject`` block). They import ``_macros.html``
  without context: Jinja builds such a module once and keeps it, where an import "with context"
  was rebuilt for every notice (the macros take what they show as arguments). The plain-text part
  is made from the same HTML (:func:`plain_text.html_to_text`), so both parts always say the
  same thing.
* Strings: ``_()`` / ``ngettext()`` in the templates; catalogs are ``integration/translations/
  <lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` in memory on first use in each process
  (no build step, never a stale ``.mo``). Extract with
  ``pybabel extract -F integration/translations/babel.cfg -o integration/translations/messages.pot integration``.
* Locale: the order's locale, else the shop's, else English; region kept for formats (``en-GB``
  dates, ``de-CH`` numbers), language for the words.
* CSS: one ``<style>`` in the layout, inlined into ``style`` attributes by css-inline (most mail
  clients drop ``<style>``).
"""

from __future__ import annotations

import contextvars
import functools
import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, pass_eval_context, select_autoescape
from markupsafe import Markup

from integration.notices.plain_text import SPACES, html_to_text

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = PACKAGE / "templates" / "notifications"
TRANSLATIONS_DIR = PACKAGE / "translations"

SUPPORTED_LOCALES = ("en", "de", "fr", "es", "it", "nl", "ja", "zh-CN")
# The catalog folder of each supported locale (gettext's spelling).
CATALOGS = {"de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl", "ja": "ja", "zh-CN": "zh_CN"}
DEFAULT_LOCALE = "en"

# Kinds of exceptions a notice can explain (ExceptionReason values).
EXCEPTION_REASONS = ("customs_delay", "delivery_delay", "address_problem", "lost", "damaged", "returned_to_sender")

# Time zone to show carrier times in, by destination country (else UTC).
COUNTRY_TZ = {
    "DE": "Europe/Berlin", "FR": "Europe/Paris", "ES": "Europe/Madrid", "IT": "Europe/Rome", "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels", "AT": "Europe/Vienna", "CH": "Europe/Zurich", "PL": "Europe/Warsaw", "GB": "Europe/London",
    "IE": "Europe/Dublin", "SE": "Europe/Stockholm", "DK": "Europe/Copenhagen", "PT": "Europe/Lisbon",
    "CZ": "Europe/Prague", "US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland", "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "KR": "Asia/Seoul", "SG": "Asia/Singapore",
}

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


# -- locales -----------------------------------------------------------------------------------------


def negotiate(*candidates: str | None) -> str:
    """The first candidate we have a catalog for (``de-AT`` -> ``de``, ``zh-Hans-CN`` -> ``zh-CN``)."""
    for candidate in candidates:
        found = _supported(candidate)
        if found:
            return found
    return DEFAULT_LOCALE


def _supported(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().replace("_", "-")
    if tag in SUPPORTED_LOCALES:
        return tag
    language = tag.split("-", 1)[0].lower()
    if language == "zh":
        return "zh-CN"  # the only Chinese catalog; closer than English for every Chinese reader
    return language if language in SUPPORTED_LOCALES else None


@functools.lru_cache(maxsize=256)  # a handful of tags in practice; Locale objects are immutable
def format_locale(requested: str | None, lang: str) -> Locale:
    """Babel locale for dates and numbers: the requested region when it matches the language."""
    for tag in (requested, lang):
        if not tag:
            continue
        try:
            loc = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        if _supported(str(loc).replace("_", "-")) == lang or loc.language == lang.split("-")[0]:
            return loc
    return Locale.parse(lang.replace("-", "_"))


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (English: the msgids themselves)."""
    if lang not in CATALOGS:
        return NullTranslations()
    po = TRANSLATIONS_DIR / CATALOGS[lang] / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=CATALOGS[lang])
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


@functools.cache  # the catalog is compiled once per process (translations), so are its ids
def catalog_ids(lang: str) -> frozenset[str]:
    """Translated msgids of a catalog (plural entries by their singular)."""
    t = translations(lang)
    return frozenset(k[0] if isinstance(k, tuple) else k for k in getattr(t, "_catalog", {}) if k)


# -- per-render state ---------------------------------------------------------------------------------


@dataclass
class _State:
    lang: str
    translations: NullTranslations
    fmt: Locale
    tz: ZoneInfo
    ids: frozenset[str]
    missing: list[str] = field(default_factory=list)


_state: contextvars.ContextVar[_State] = contextvars.ContextVar("notification_render")


def _st() -> _State:
    return _state.get()


def _gettext(message: str) -> str:
    st = _st()
    if st.lang != DEFAULT_LOCALE and message not in st.ids:
        st.missing.append(message)
    return st.translations.gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    st = _st()
    if st.lang != DEFAULT_LOCALE and singular not in st.ids:
        st.missing.append(singular)
    return st.translations.ngettext(singular, plural, n)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


# Babel's formatting is pure (value, format, locale -> text) and costs tens of microseconds a call;
# notices repeat the same few dates, quantities and amounts over and over (the estimate alone is
# shown twice per notice), so the results are kept, a bounded number of them.
@functools.lru_cache(maxsize=2048)
def _formatted_date(day: date, fmt: str, loc: Locale) -> str:
    return format_date(day, fmt, locale=loc)


@functools.lru_cache(maxsize=2048)
def _formatted_datetime(moment: datetime, fmt: str, tz: ZoneInfo | None, loc: Locale) -> str:
    if tz is None:
        return format_datetime(moment, fmt, locale=loc)
    return format_datetime(moment, fmt, tzinfo=tz, locale=loc)


@functools.lru_cache(maxsize=2048)
def _formatted_money(text: str, currency: str, loc: Locale) -> str:
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    return format_currency(amount, currency, locale=loc)


@functools.lru_cache(maxsize=2048)
def _formatted_number(text: str, loc: Locale) -> str:
    try:
        return format_decimal(Decimal(text), locale=loc)
    except (InvalidOperation, ValueError):
        return text


def _date(value: Any, fmt: str = "long") -> str:
    d = _as_datetime(value)
    if d is None:
        return ""
    if d.tzinfo is not None:
        d = d.astimezone(_st().tz)
    return _formatted_date(d.date(), fmt, _st().fmt)


def _datetime(value: Any, fmt: str = "medium") -> str:
    d = _as_datetime(value)
    if d is None:
        return ""
    return _formatted_datetime(d, fmt, _st().tz if d.tzinfo is not None else None, _st().fmt)


def _money(value: Any, currency: str | None) -> str:
    return _formatted_money(str(value), (currency or "USD").upper(), _st().fmt)


def _number(value: Any) -> str:
    return _formatted_number(str(value), _st().fmt)


def _country(code: Any) -> str:
    code = str(code or "").upper()
    return _st().fmt.territories.get(code, code)


def _language(code: Any) -> str:
    code = str(code or "").lower()
    return _st().fmt.languages.get(code, code)


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` output: braces become character references. Browsers and mail clients show
    them unchanged, but Shopify's Liquid renderer (app proxy pages) never sees ``{{`` or ``{%``
    coming from data — whatever a customer, carrier or merchant typed."""
    if value is None:
        return ""
    if isinstance(value, str) and ("{" in value or "}" in value):
        escaped = str(value) if isinstance(value, Markup) else str(Markup.escape(value))
        return Markup(escaped.replace("{", "&#123;").replace("}", "&#125;"))  # noqa: S704 - escaped above
    return value


# What ``_()`` gives a template, per (language, msgid, autoescape): the catalogs are fixed for the
# process, and a notice asks for some twenty translations. Bounded: the templates only ever pass
# literal msgids.
_TRANSLATED: dict[tuple[str, str, bool], str] = {}


def _translated(st: _State, message: str, autoescape: bool) -> str:
    if st.lang != DEFAULT_LOCALE and message not in st.ids:
        st.missing.append(message)
    key = (st.lang, message, autoescape)
    rv = _TRANSLATED.get(key)
    if rv is None:
        rv = st.translations.gettext(message)
        rv = _TRANSLATED[key] = Markup(rv) if autoescape else rv  # noqa: S704 - our catalog's text; variables are escaped by %
    return rv


@pass_eval_context
def _newstyle_gettext(eval_ctx: Any, __string: str, **variables: Any) -> str:
    """jinja2.ext's newstyle gettext: the translation, escaped when autoescaping, always
    %-formatted with ``variables``."""
    return _translated(_st(), __string, eval_ctx.autoescape) % variables


@pass_eval_context
def _newstyle_ngettext(eval_ctx: Any, __singular: str, __plural: str, __num: int, **variables: Any) -> str:
    variables.setdefault("num", __num)
    rv = _ngettext(__singular, __plural, __num)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - our catalog's text; the variables are escaped by %
    return rv % variables


class _Environment(Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        """``c.order_name`` on a dict: its key first. Jinja tries the attribute first, and the
        AttributeError every dict raises for it cost a notice some fifty exceptions. (A key named
        like a dict method, ``c.items``, now means the key.)"""
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@functools.cache
def environment() -> Environment:
    env = _Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=_finalize,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Jinja's newstyle wrappers reach _gettext through three Context.call hops per `_()` (the
    # `_` alias, `gettext`, then the function): a quarter of a notice's render time. These do
    # the same in one.
    env.globals.update(_=_newstyle_gettext, gettext=_newstyle_gettext, ngettext=_newstyle_ngettext)
    env.filters.update(date=_date, datetime=_datetime, money=_money, number=_number, country=_country,
                       language=_language)
    return env


_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


# -- branding -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Branding:
    shop_name: str
    sender_name: str
    sender_email: str
    reply_to: str | None = None
    logo_url: str | None = None
    primary_color: str = "#1f6feb"
    accent_color: str = "#f5f7fa"

    @classmethod
    def build(cls, *, shop_name: str, sender_email: str, sender_name: str | None = None, reply_to: str | None = None,
              logo_url: str | None = None, primary_color: str | None = None,
              accent_color: str | None = None) -> Branding:
        # Colours go into CSS and the logo into an attribute: only accept what cannot break out.
        logo = logo_url if logo_url and re.match(r"^https?://[^\s\"'<>]+$", logo_url) else None
        return cls(shop_name=shop_name, sender_name=sender_name or shop_name, sender_email=sender_email,
                   reply_to=reply_to or None, logo_url=logo,
                   primary_color=primary_color if primary_color and _HEX.match(primary_color) else "#1f6feb",
                   accent_color=accent_color if accent_color and _HEX.match(accent_color) else "#f5f7fa")


SAMPLE_BRANDING = Branding.build(shop_name="Acme Outdoor", sender_email="no-reply@example.com",
                                 reply_to="support@example.com")


# -- rendering -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    lang: str
    missing: tuple[str, ...] = ()  # msgids the catalog lacked (English shown instead)


def render(kind: str, context: dict[str, Any], *, locale: str | None, branding: Branding,
           links: dict[str, str] | None = None, country: str | None = None) -> Rendered:
    """Render one notice: subject, inlined HTML and plain text, in the best language we have."""
    lang = negotiate(locale)
    state = _State(lang=lang, translations=translations(lang), fmt=format_locale(locale, lang),
                   tz=ZoneInfo(COUNTRY_TZ.get((country or "").upper(), "UTC")), ids=catalog_ids(lang))
    token = _state.set(state)
    try:
        template = environment().get_template(f"{kind}.html")
        variables = {"c": context or {}, "brand": branding, "links": links or {}, "lang": lang, "kind": kind}
        body = template.render(**variables)
    finally:
        _state.reset(token)
    # The layout's <title> is the subject block: one render gives both.
    found = re.search(r"<title>(.*?)</title>", body, re.S)
    subject = html.unescape(SPACES.sub(" ", found.group(1)).strip(" ")) if found else ""
    return Rendered(subject=subject, html=_inliner.inline(body), text=html_to_text(body), lang=lang,
                    missing=tuple(dict.fromkeys(state.missing)))


def render_page(template_name: str, variables: dict[str, Any], *, locale: str | None,
                country: str | None = None) -> tuple[str, str]:
    """Render a customer-facing page (tracking, unsubscribe, feedback); returns (html, lang)."""
    lang = negotiate(locale)
    state = _State(lang=lang, translations=translations(lang), fmt=format_locale(locale, lang),
                   tz=ZoneInfo(COUNTRY_TZ.get((country or "").upper(), "UTC")), ids=catalog_ids(lang))
    token = _state.set(state)
    try:
        return environment().get_template(template_name).render(**variables, lang=lang), lang
    finally:
        _state.reset(token)


def escape(value: Any) -> Markup:
    return Markup.escape(value)
