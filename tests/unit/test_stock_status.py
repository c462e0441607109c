"""The pure status rules and their texts, in every storefront language."""
# ruff: noqa: RUF001 - shopper-facing texts use typographic dashes (en dash) and CJK punctuation

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from integration.domain.routing import Candidate
from integration.domain.stock_status import (
    ANY_MARKET,
    Policy,
    StatusCode,
    StockStatus,
    WarehouseStock,
    add_business_days,
    restock_budget,
    status_for,
    statuses_for,
)
from integration.storefront import texts

TODAY = date(2026, 12, 1)  # a Tuesday
DE = Candidate(1, "Berlin", "DE", priority=100, transit_days={"DE": [1, 3], "*": [5, 10]})
US = Candidate(2, "LA", "US", priority=100, transit_days={"US": [2, 4], "*": [6, 12]})
EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "stock-status"


def stock(w: Candidate, available: int, **kw) -> WarehouseStock:
    return WarehouseStock(w, available, kw.pop("handling_hours", 24), **kw)


def test_local_warehouse_wins_and_promises_its_handling_plus_transit():
    s = status_for("X", "DE", [stock(DE, 40), stock(US, 40)], Policy(), TODAY)
    assert (s.code, s.local, s.ship_from, s.eta_days, s.quantity) == (
        StatusCode.IN_STOCK_LOCAL, True, "DE", (2, 4), None)
    assert status_for("X", "DE", [stock(DE, 40, handling_hours=0)], Policy(), TODAY).eta_days == (1, 3)
    assert status_for("X", "DE", [stock(DE, 40, handling_hours=30)], Policy(), TODAY).eta_days == (3, 5)


def test_elsewhere_ships_from_abroad_with_the_longer_range():
    s = status_for("X", "FR", [stock(DE, 40), stock(US, 40)], Policy(), TODAY)
    assert (s.code, s.ship_from, s.eta_days) == (StatusCode.SHIPS_FROM_ABROAD, "DE", (6, 11))
    s = status_for("X", "DE", [stock(DE, 0), stock(US, 40)], Policy(), TODAY)
    assert (s.code, s.ship_from, s.eta_days) == (StatusCode.SHIPS_FROM_ABROAD, "US", (7, 13))


def test_low_stock_counts_what_can_ship_to_the_market_and_keeps_the_estimate():
    s = status_for("X", "DE", [stock(DE, 2), stock(US, 1)], Policy(low_stock_threshold=5), TODAY)
    assert (s.code, s.quantity, s.local, s.eta_days) == (StatusCode.LOW_STOCK, 3, True, (2, 4))
    assert status_for("X", "DE", [stock(DE, 6)], Policy(low_stock_threshold=5), TODAY).code is StatusCode.IN_STOCK_LOCAL
    assert status_for("X", "DE", [stock(DE, 1)], Policy(low_stock_threshold=0), TODAY).code is StatusCode.IN_STOCK_LOCAL


def test_exclusions_follow_routing():
    blocked = Candidate(1, "Berlin", "DE", transit_days={"DE": [1, 3], "*": [5, 10]},
                        excluded_countries=frozenset({"CH"}))
    assert status_for("X", "CH", [stock(blocked, 10)], Policy(), TODAY).code is StatusCode.OUT_OF_STOCK
    paused = Candidate(1, "Berlin", "DE", active=False)
    assert status_for("X", "DE", [stock(paused, 10)], Policy(), TODAY).code is StatusCode.OUT_OF_STOCK
    statuses = statuses_for("X", [stock(blocked, 10)], Policy(), TODAY)
    assert statuses.for_market("CH").code is StatusCode.OUT_OF_STOCK
    assert statuses.for_market("AT").code is StatusCode.SHIPS_FROM_ABROAD


def test_preorder_needs_the_setting_inbound_and_a_date():
    inbound = stock(DE, 0, inbound=10, inbound_eta=date(2026, 12, 10))  # Thursday
    assert status_for("X", "DE", [inbound], Policy(allow_preorder=False), TODAY).code is StatusCode.OUT_OF_STOCK
    s = status_for("X", "DE", [inbound], Policy(allow_preorder=True), TODAY)
    # handling 1 + transit 3 business days after Thursday 10 Dec: Wednesday 16 Dec.
    assert (s.code, s.arrives_on, s.subscribable) == (StatusCode.PREORDER, date(2026, 12, 16), False)
    late = stock(DE, 0, inbound=10, inbound_eta=date(2026, 11, 1))  # overdue: counted from today
    assert status_for("X", "DE", [late], Policy(allow_preorder=True), TODAY).arrives_on == date(2026, 12, 7)
    undated = stock(DE, 0, inbound=10)
    assert status_for("X", "DE", [undated], Policy(allow_preorder=True), TODAY).code is StatusCode.OUT_OF_STOCK


def test_unknown_transit_promises_no_date():
    bare = Candidate(3, "Somewhere", "PL")
    s = status_for("X", "PL", [stock(bare, 10)], Policy(), TODAY)
    assert s.code is StatusCode.IN_STOCK_LOCAL and s.eta_days is None
    assert texts.render(s, "PL", "en") == {"status": "In stock in Poland", "plain": "In stock in Poland", "eta": ""}


def test_markets_are_compressed_to_those_that_differ_from_the_rest_of_the_world():
    statuses = statuses_for("X", [stock(DE, 40), stock(US, 0)], Policy(), TODAY)
    assert set(statuses.markets) == {"DE", ANY_MARKET}  # US is like the rest of the world
    assert statuses.for_market("JP").code is StatusCode.SHIPS_FROM_ABROAD
    assert statuses.available == 40
    nothing = statuses_for("X", [stock(DE, 0), stock(US, 0)], Policy(), TODAY)
    assert set(nothing.markets) == {ANY_MARKET} and nothing.for_market("DE").subscribable


def test_business_days_skip_weekends():
    assert add_business_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Friday -> Monday
    assert add_business_days(date(2026, 12, 5), 0) == date(2026, 12, 5)


@pytest.mark.parametrize(("before", "after", "factor", "budget"), [
    (0, 3, 2.0, 6), (0, 500, 2.0, 1000), (3, 4, 2.0, 2), (5, 5, 2.0, 0), (5, 2, 2.0, 0), (0, 0, 2.0, 0),
    (0, 1, 0.3, 1), (-2, 3, 1.0, 3),
])
def test_restock_budget_is_proportional_to_the_units(before, after, factor, budget):
    assert restock_budget(before, after, factor) == budget


# -- texts ------------------------------------------------------------------------------------------


def test_every_language_has_every_text_with_its_placeholders():
    assert set(texts.SUPPORTED_LOCALES) >= {"en", "de", "fr", "es", "it", "nl", "ja", "zh-CN"}
    for locale in texts.SUPPORTED_LOCALES:
        catalog = texts.CATALOG[locale]
        assert set(catalog) == set(texts.TEXT_KEYS), locale
        for key, template in catalog.items():
            assert set(texts._PLACEHOLDER.findall(template)) <= texts.PLACEHOLDERS[key], (locale, key)
            texts.validate_override(locale, key, template)


@pytest.mark.parametrize(("locale", "status", "eta"), [
    ("en", "In stock in Germany", "Arrives in 2–4 days"),
    ("de", "Auf Lager in Deutschland", "Lieferung in 2–4 Tagen"),
    ("fr", "En stock : Allemagne", "Livraison sous 2 à 4 jours"),
    ("es", "En stock en Alemania", "Llega en 2–4 días"),
    ("it", "Disponibile in Germania", "Arriva in 2–4 giorni"),
    ("nl", "Op voorraad in Duitsland", "Bezorgd in 2–4 dagen"),
    ("ja", "ドイツの倉庫に在庫あり", "2〜4日でお届け"),
    ("zh-CN", "德国仓库有货", "2–4 天送达"),
])
def test_local_status_in_each_language(locale, status, eta):
    s = StockStatus(StatusCode.IN_STOCK_LOCAL, local=True, ship_from="DE", eta_days=(2, 4))
    assert texts.render(s, "DE", locale) == {"status": status, "plain": status, "eta": eta}


def test_low_stock_preorder_and_single_day_texts():
    low = StockStatus(StatusCode.LOW_STOCK, local=True, ship_from="DE", quantity=3, eta_days=(1, 1))
    assert texts.render(low, "DE", "en") == {"status": "Only 3 left", "plain": "Low stock", "eta": "Arrives in 1 day"}
    assert texts.render(low, "DE", "de")["status"] == "Nur noch 3 verfügbar"
    pre = StockStatus(StatusCode.PREORDER, ship_from="DE", arrives_on=date(2026, 12, 12))
    assert texts.render(pre, "DE", "en") == {"status": "Pre-order", "plain": "Pre-order", "eta": "Arrives Dec 12"}
    assert texts.render(pre, "DE", "de")["eta"] == "Lieferung am 12. Dez."
    assert texts.render(pre, "DE", "ja")["eta"] == "12月12日お届け予定"


def test_overrides_are_validated_and_substituted_safely():
    with pytest.raises(texts.TextError):
        texts.validate_override("en", "low_stock", "Only {count.__class__} left")
    with pytest.raises(texts.TextError):
        texts.validate_override("en", "low_stock", "Only {country} left")
    with pytest.raises(texts.TextError):
        texts.validate_override("en", "nope", "x")
    with pytest.raises(texts.TextError):
        texts.validate_override("en", "out_of_stock", "x" * 201)
    low = StockStatus(StatusCode.LOW_STOCK, quantity=2)
    overrides = {"en": {"low_stock": "Hurry, {count} {left}"}}
    assert texts.render(low, "*", "en", overrides)["status"] == "Hurry, 2 {left}"
    assert texts.render(low, "*", "de", overrides)["status"] == "Nur noch 2 verfügbar"


def test_locale_resolution():
    assert texts.resolve_locale("de-AT") == "de"
    assert texts.resolve_locale("zh-Hans-CN") == "zh-CN" and texts.resolve_locale("zh_CN") == "zh-CN"
    assert texts.resolve_locale("zh-TW", "en") == "en"
    assert texts.resolve_locale("pt-BR", "fr") == "fr"
    assert texts.resolve_locale("JA") == "ja"


def test_extension_locales_cover_the_same_languages_with_the_same_keys():
    files = {p.name.split(".")[0]: json.loads(p.read_text()) for p in (EXTENSION / "locales").glob("*.json")
             if not p.name.endswith(".schema.json")}
    assert {"en", *texts.SUPPORTED_LOCALES} <= set(files)

    def keys(tree, prefix=""):
        return {k for key, value in tree.items()
                for k in (keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key})}

    english = keys(files["en"])
    for locale, tree in files.items():
        assert keys(tree) == english, locale
