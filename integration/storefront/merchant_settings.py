"""What the embedded admin's Storefront page reads and changes: the storefront settings (pre-order,
back-in-stock, languages, extra markets), the low-stock threshold (a shop setting the storefront
status reads) and the merchant's wording of each status text per language.

Every value from the admin is checked here, field by field, before anything is written
(:class:`~integration.warehouses.setup_validation.InvalidError` names the field); then the
writers of :mod:`integration.storefront.settings` and :mod:`integration.shops.shop_settings`
store it, and every status of the shop is recomputed after the commit (Redis bodies, metafields).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from integration.extensions import db
from integration.shops import shop_settings
from integration.storefront import settings as storefront_settings
from integration.storefront.texts import (
    CATALOG,
    MAX_TEMPLATE,
    PLACEHOLDERS,
    SUPPORTED_LOCALES,
    TEXT_KEYS,
    TextError,
    validate_override,
)
from integration.warehouses.setup_validation import InvalidError, SetupError, boolean, country, integer

FIELDS = ("allow_preorder", "back_in_stock", "notify_per_unit", "low_stock_threshold", "locales",
          "default_locale", "markets")
MAX_NOTIFY_PER_UNIT = 100  # the storefront writer clamps to this; the admin says so instead
MAX_MARKETS = 50
MAX_THRESHOLD = shop_settings.MAX_UNITS


def _object(data, field: str) -> Mapping:
    if not isinstance(data, Mapping):
        raise SetupError(f"{field} must be a JSON object", field=field, code="invalid_body")
    return data


def _language(value, field: str) -> str:
    if not isinstance(value, str) or value not in SUPPORTED_LOCALES:
        raise InvalidError(field, f"must be one of {', '.join(SUPPORTED_LOCALES)}")
    return value


def _number(value, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidError(field, "must be a number")
    if not lo <= value <= hi:
        raise InvalidError(field, f"must be between {lo:g} and {hi:g}")
    return float(value)


def _list(value, field: str, most: int) -> list:
    if not isinstance(value, list):
        raise InvalidError(field, "must be a list")
    if len(value) > most:
        raise InvalidError(field, f"at most {most} entries")
    return value


def clean_settings(data) -> dict:
    """The settings of ``data`` (any subset of :data:`FIELDS`), checked and normalised."""
    data = _object(data, "settings")
    for key in data:
        if key not in FIELDS:
            raise InvalidError(str(key)[:64], f"unknown field; expected one of {', '.join(FIELDS)}")
    out: dict = {}
    for key in ("allow_preorder", "back_in_stock"):
        if key in data:
            out[key] = boolean(data[key], key)
    if "notify_per_unit" in data:
        out["notify_per_unit"] = _number(data["notify_per_unit"], "notify_per_unit", 0, MAX_NOTIFY_PER_UNIT)
    if "low_stock_threshold" in data:
        out["low_stock_threshold"] = integer(data["low_stock_threshold"], "low_stock_threshold", 0, MAX_THRESHOLD)
    if "locales" in data:
        chosen = {_language(v, f"locales.{i}") for i, v in
                  enumerate(_list(data["locales"], "locales", len(SUPPORTED_LOCALES)))}
        out["locales"] = [loc for loc in SUPPORTED_LOCALES if loc in chosen]  # [] = every language
    if "default_locale" in data:
        value = data["default_locale"]
        out["default_locale"] = None if value in (None, "") else _language(value, "default_locale")
    if "markets" in data:
        out["markets"] = sorted({country(v, f"markets.{i}") for i, v in
                                 enumerate(_list(data["markets"], "markets", MAX_MARKETS))})
    return out


def read_settings(shop_id: int) -> dict:
    sf = storefront_settings.settings_for(shop_id)
    return {
        "allow_preorder": bool(sf.allow_preorder),
        "back_in_stock": bool(sf.back_in_stock),
        "notify_per_unit": float(sf.notify_per_unit if sf.notify_per_unit is not None else 2.0),
        "low_stock_threshold": shop_settings.get_settings(shop_id).low_stock_threshold,
        "locales": list(sf.locales or []),
        "default_locale": sf.default_locale,
        "markets": list(sf.markets or []),
    }


def save_settings(shop_id: int, data) -> dict:
    """Store the checked settings and commit; every status of the shop follows after the commit."""
    values = clean_settings(data)
    current = read_settings(shop_id)
    locales = values.get("locales", current["locales"])
    default = values.get("default_locale", current["default_locale"])
    if locales and default and default not in locales:
        raise InvalidError("default_locale", "must be one of the chosen languages")
    storefront = {k: v for k, v in values.items() if k != "low_stock_threshold"}
    if storefront:
        storefront_settings.update_settings(shop_id, storefront)  # refreshes after the commit
    if "low_stock_threshold" in values:
        shop_settings.update_settings(shop_id, {"low_stock_threshold": values["low_stock_threshold"]})  # commits
    db.session.commit()
    return read_settings(shop_id)


# -- wording ----------------------------------------------------------------------------------------

def clean_texts(data, field: str = "texts") -> dict[str, dict[str, str]]:
    """``{language: {key: template}}`` checked (known languages and keys, one line of at most
    :data:`MAX_TEMPLATE` characters, only the key's placeholders); ``""`` or null: the default."""
    data = _object(data, field)
    out: dict[str, dict[str, str]] = {}
    for language, texts in data.items():
        where = f"{field}.{str(language)[:16]}"
        language = _language(language, where)
        texts = _object(texts, where)
        out[language] = {}
        for key, value in texts.items():
            at = f"{where}.{str(key)[:32]}"
            if key not in PLACEHOLDERS:
                raise InvalidError(at, f"unknown text; known: {', '.join(TEXT_KEYS)}")
            if value is None or (isinstance(value, str) and not value.strip()):
                out[language][key] = ""
                continue
            if not isinstance(value, str):
                raise InvalidError(at, "must be a string")
            if len(value) > MAX_TEMPLATE:
                raise InvalidError(at, f"must be at most {MAX_TEMPLATE} characters")
            try:
                out[language][key] = validate_override(language, key, value)
            except TextError as exc:
                message = str(exc).removeprefix(f"{key}: ")
                raise InvalidError(at, message) from None
    return out


def read_texts(shop_id: int) -> dict:
    saved = storefront_settings.overrides_for(shop_id)
    return {
        "languages": list(SUPPORTED_LOCALES),
        "keys": [{"key": key, "placeholders": sorted(PLACEHOLDERS[key])} for key in TEXT_KEYS],
        "max_length": MAX_TEMPLATE,
        "texts": {loc: {key: {"default": CATALOG[loc][key], "custom": saved.get(loc, {}).get(key)}
                        for key in TEXT_KEYS} for loc in SUPPORTED_LOCALES},
    }


def save_texts(shop_id: int, data) -> dict:
    """Store (or, when empty, drop) each given wording and commit; the statuses follow."""
    texts = clean_texts(_object(data, "body").get("texts"))
    for language, by_key in texts.items():
        for key, template in by_key.items():
            storefront_settings.set_text(shop_id, language, key, template or None)
    db.session.commit()
    return read_texts(shop_id)
