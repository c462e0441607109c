"""The shopper-facing texts of the stock status, in every storefront language we ship, and the
merchant's overrides of them.

Templates use ``{name}`` placeholders (only the ones listed per key in :data:`PLACEHOLDERS`; they
are substituted by a regular expression, never by ``str.format``, so a merchant's override cannot
reach Python attributes). Country names and dates come from Babel's CLDR data in the shopper's
language. Rendered texts are plain text: whoever puts them in HTML escapes them (Liquid's
``escape``, the script's ``textContent``).
"""
# ruff: noqa: RUF001 - shopper-facing texts use typographic dashes (en dash) and CJK punctuation

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from integration.domain.stock_status import StatusCode, StockStatus

SUPPORTED_LOCALES = ("en", "de", "fr", "es", "it", "nl", "ja", "zh-CN")
DEFAULT_LOCALE = "en"

# key -> placeholders it may use
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "in_stock_local": frozenset({"country"}),
    "ships_from_abroad": frozenset({"country"}),
    "low_stock": frozenset({"count"}),
    "low_stock_plain": frozenset(),
    "preorder": frozenset(),
    "out_of_stock": frozenset(),
    "eta_range": frozenset({"min", "max"}),
    "eta_days": frozenset({"days"}),
    "eta_day": frozenset({"days"}),
    "preorder_eta": frozenset({"date"}),
}
TEXT_KEYS = tuple(PLACEHOLDERS)
MAX_TEMPLATE = 200

CATALOG: dict[str, dict[str, str]] = {
    "en": {
        "in_stock_local": "In stock in {country}",
        "ships_from_abroad": "In stock, ships from abroad",
        "low_stock": "Only {count} left",
        "low_stock_plain": "Low stock",
        "preorder": "Pre-order",
        "out_of_stock": "Out of stock",
        "eta_range": "Arrives in {min}–{max} days",
        "eta_days": "Arrives in {days} days",
        "eta_day": "Arrives in {days} day",
        "preorder_eta": "Arrives {date}",
    },
    "de": {
        "in_stock_local": "Auf Lager in {country}",
        "ships_from_abroad": "Auf Lager, Versand aus dem Ausland",
        "low_stock": "Nur noch {count} verfügbar",
        "low_stock_plain": "Nur noch wenige verfügbar",
        "preorder": "Vorbestellung",
        "out_of_stock": "Ausverkauft",
        "eta_range": "Lieferung in {min}–{max} Tagen",
        "eta_days": "Lieferung in {days} Tagen",
        "eta_day": "Lieferung in {days} Tag",
        "preorder_eta": "Lieferung am {date}",
    },
    "fr": {
        "in_stock_local": "En stock : {country}",
        "ships_from_abroad": "En stock, expédié depuis l’étranger",
        "low_stock": "Plus que {count} en stock",
        "low_stock_plain": "Stock limité",
        "preorder": "Précommande",
        "out_of_stock": "Rupture de stock",
        "eta_range": "Livraison sous {min} à {max} jours",
        "eta_days": "Livraison sous {days} jours",
        "eta_day": "Livraison sous {days} jour",
        "preorder_eta": "Livraison le {date}",
    },
    "es": {
        "in_stock_local": "En stock en {country}",
        "ships_from_abroad": "En stock, se envía desde el extranjero",
        "low_stock": "Solo quedan {count}",
        "low_stock_plain": "Pocas unidades",
        "preorder": "Preventa",
        "out_of_stock": "Agotado",
        "eta_range": "Llega en {min}–{max} días",
        "eta_days": "Llega en {days} días",
        "eta_day": "Llega en {days} día",
        "preorder_eta": "Llega el {date}",
    },
    "it": {
        "in_stock_local": "Disponibile in {country}",
        "ships_from_abroad": "Disponibile, spedito dall’estero",
        "low_stock": "Ne restano solo {count}",
        "low_stock_plain": "Scorte limitate",
        "preorder": "Preordine",
        "out_of_stock": "Esaurito",
        "eta_range": "Arriva in {min}–{max} giorni",
        "eta_days": "Arriva in {days} giorni",
        "eta_day": "Arriva in {days} giorno",
        "preorder_eta": "Arriva il {date}",
    },
    "nl": {
        "in_stock_local": "Op voorraad in {country}",
        "ships_from_abroad": "Op voorraad, verzonden vanuit het buitenland",
        "low_stock": "Nog maar {count} beschikbaar",
        "low_stock_plain": "Beperkte voorraad",
        "preorder": "Pre-order",
        "out_of_stock": "Uitverkocht",
        "eta_range": "Bezorgd in {min}–{max} dagen",
        "eta_days": "Bezorgd in {days} dagen",
        "eta_day": "Bezorgd in {days} dag",
        "preorder_eta": "Bezorgd op {date}",
    },
    "ja": {
        "in_stock_local": "{country}の倉庫に在庫あり",
        "ships_from_abroad": "在庫あり（海外から発送）",
        "low_stock": "残り{count}点",
        "low_stock_plain": "残りわずか",
        "preorder": "予約注文",
        "out_of_stock": "在庫切れ",
        "eta_range": "{min}〜{max}日でお届け",
        "eta_days": "{days}日でお届け",
        "eta_day": "{days}日でお届け",
        "preorder_eta": "{date}お届け予定",
    },
    "zh-CN": {
        "in_stock_local": "{country}仓库有货",
        "ships_from_abroad": "有货（海外发货）",
        "low_stock": "仅剩 {count} 件",
        "low_stock_plain": "库存紧张",
        "preorder": "预售",
        "out_of_stock": "缺货",
        "eta_range": "{min}–{max} 天送达",
        "eta_days": "{days} 天送达",
        "eta_day": "{days} 天送达",
        "preorder_eta": "预计 {date} 送达",
    },
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_BRACES = re.compile(r"\{[^{}]*\}")
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

Overrides = Mapping[str, Mapping[str, str]]  # locale -> key -> template


class TextError(ValueError):
    """A merchant's override is not usable (unknown key or locale, bad placeholder, too long)."""


def resolve_locale(requested: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The supported locale closest to ``requested`` (``de-CH`` -> ``de``, ``zh-Hans-CN`` and
    ``zh_CN`` -> ``zh-CN``), else ``default``."""
    if not requested:
        return default
    value = requested.strip().replace("_", "-")
    by_lower = {loc.lower(): loc for loc in SUPPORTED_LOCALES}
    if value.lower() in by_lower:
        return by_lower[value.lower()]
    parts = value.lower().split("-")
    if parts[0] == "zh":
        return "zh-CN" if ("cn" in parts or "hans" in parts or len(parts) == 1) else default
    return by_lower.get(parts[0], default)


def validate_override(locale: str, key: str, template: str) -> str:
    if locale not in SUPPORTED_LOCALES and not _LOCALE_RE.match(locale or ""):
        raise TextError(f"unknown locale {locale!r}")
    if key not in PLACEHOLDERS:
        raise TextError(f"unknown text {key!r}; known: {', '.join(TEXT_KEYS)}")
    template = (template or "").strip()
    if not template or len(template) > MAX_TEMPLATE or "\n" in template:
        raise TextError(f"{key}: one line of 1 to {MAX_TEMPLATE} characters")
    used = {m.strip("{}") for m in _BRACES.findall(template)}
    unknown = used - PLACEHOLDERS[key]
    if unknown:
        raise TextError(f"{key}: unknown placeholder(s) {', '.join(sorted(unknown))}; "
                        f"allowed: {', '.join(sorted(PLACEHOLDERS[key])) or 'none'}")
    return template


def template(key: str, locale: str, overrides: Overrides | None = None) -> str:
    if overrides:
        custom = overrides.get(locale, {}).get(key)
        if custom:
            return custom
    return CATALOG.get(locale, CATALOG[DEFAULT_LOCALE])[key]


def fill(text: str, values: Mapping[str, object]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


@lru_cache(maxsize=4096)
def country_name(code: str, locale: str) -> str:
    try:
        names = _babel_locale(locale).territories
    except (UnknownLocaleError, ValueError):
        names = _babel_locale(DEFAULT_LOCALE).territories
    return names.get(code.upper(), code.upper())


@lru_cache(maxsize=64)
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale, sep="-")


def short_date(value: date, locale: str) -> str:
    """"12 Dec" in the shopper's language (CLDR's abbreviated month-day pattern)."""
    try:
        return format_date(value, _babel_locale(locale).datetime_skeletons["MMMd"], locale=_babel_locale(locale))
    except (KeyError, UnknownLocaleError, ValueError):
        return format_date(value, "d MMM", locale=DEFAULT_LOCALE)


def render(status: StockStatus, market: str, locale: str, overrides: Overrides | None = None) -> dict[str, str]:
    """The texts for one status: ``status`` (the headline), ``plain`` (the headline without the
    count, for themes that hide it), ``eta`` (may be empty)."""
    t = lambda key: template(key, locale, overrides)  # noqa: E731
    code = status.code
    values: dict[str, object] = {}
    if status.ship_from:
        values["country"] = country_name(market if status.local else status.ship_from, locale)
    if code is StatusCode.LOW_STOCK:
        headline = fill(t("low_stock"), {"count": status.quantity or 0})
        plain = t("low_stock_plain")
    else:
        headline = plain = fill(t(code.value), values)
    eta = ""
    if status.eta_days and code in (StatusCode.IN_STOCK_LOCAL, StatusCode.SHIPS_FROM_ABROAD, StatusCode.LOW_STOCK):
        low, high = status.eta_days
        if low == high:
            eta = fill(t("eta_day" if low == 1 else "eta_days"), {"days": low})
        else:
            eta = fill(t("eta_range"), {"min": low, "max": high})
    elif code is StatusCode.PREORDER and status.arrives_on:
        eta = fill(t("preorder_eta"), {"date": short_date(status.arrives_on, locale)})
    return {"status": headline, "plain": plain, "eta": eta}
