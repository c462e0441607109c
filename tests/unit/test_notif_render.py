"""Every notice renders in every supported language from real Babel catalogs, with nothing left in
English, localized dates and money, inlined CSS and a plain-text twin (what the twin says:
test_notif_plain_text.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from integration.notices import render as rendering
from integration.notices import samples
from integration.notices.outbox import KINDS

TRANSLATIONS = Path(rendering.TRANSLATIONS_DIR)
NON_ENGLISH = [loc for loc in rendering.SUPPORTED_LOCALES if loc != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Words that stay as they are in every language: brand and sample data.
BRANDS = ("Nearstock", "Acme Outdoor", "DHL", "Trail Mug", "Camp Stove", "Berlin-Tegel", "Gold", "GOLD-7KQ2-XM")


def source_msgids() -> dict[str, str | tuple[str, str]]:
    """Every msgid the templates use, extracted with Babel exactly as pybabel does."""
    method_map = [("**/templates/notifications/**.html", "jinja2")]
    options = {"**/templates/notifications/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                                      "lstrip_blocks": "True"}}
    found: dict = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(rendering.PACKAGE), method_map, options_map=options, keywords={"_": None, "ngettext": (1, 2)}):
        key = message[0] if isinstance(message, tuple) else message
        found[key] = message
    return found


@pytest.mark.parametrize("lang", NON_ENGLISH)
def test_every_msgid_is_translated_in_every_catalog(lang):
    folder = rendering.CATALOGS[lang]
    with (TRANSLATIONS / folder / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp, locale=folder)
    used = source_msgids()
    assert len(used) > 100
    for key, message in used.items():
        entry = catalog.get(message if isinstance(message, str) else message[0])
        assert entry is not None, f"{lang}: {key!r} is not in the catalog (run pybabel update)"
        assert not entry.fuzzy, f"{lang}: {key!r} is fuzzy"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"{lang}: {key!r} has no translation"
        source = set(PLACEHOLDER.findall(key if isinstance(message, str) else " ".join(message)))
        for translated in strings:
            placeholders = set(PLACEHOLDER.findall(translated))
            assert placeholders <= source and source - {"num"} <= placeholders, f"{lang}: {key!r} placeholders"
    # and nothing stale is left in the catalog
    stale = [m.id for m in catalog if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in used]
    assert stale == []


def cases():
    for kind in KINDS:
        for variant in samples.variants(kind):
            yield kind, variant


@pytest.mark.parametrize("locale", rendering.SUPPORTED_LOCALES)
def test_every_template_renders_in_every_language_without_english_fallback(locale):
    english_sentences = set()
    for kind, variant in cases():
        english = rendering.render(kind, samples.sample_context(kind, variant), locale="en",
                                   branding=rendering.SAMPLE_BRANDING, links=samples.SAMPLE_LINKS, country="DE")
        english_sentences |= {s for s in re.split(r"[.:!?\n]", english.text) if len(s.strip()) > 15}
    for kind, variant in cases():
        out = rendering.render(kind, samples.sample_context(kind, variant), locale=locale,
                               branding=rendering.SAMPLE_BRANDING, links=samples.SAMPLE_LINKS, country="DE")
        assert out.lang == locale
        assert out.missing == (), f"{kind}/{variant} in {locale}: untranslated {out.missing}"
        assert out.subject and "\n" not in out.subject
        assert "<style" not in out.html and 'style="' in out.html  # CSS inlined
        assert out.text.strip() and "<" not in out.text.replace("<http", "")
        if locale != "en":
            data = " ".join(str(v) for v in samples.sample_context(kind, variant).values())
            leaked = [s for s in english_sentences if s.strip() in out.text and s.strip(" -") not in data
                      and not any(b in s for b in BRANDS) and not any(c in s for c in "/=<>")]
            assert leaked == [], f"{kind}/{variant} in {locale} shows English: {leaked}"


def test_dates_money_and_numbers_are_localized():
    ctx = samples.sample_context("perk_issued")
    de = rendering.render("perk_issued", ctx, locale="de-DE", branding=rendering.SAMPLE_BRANDING)
    assert "4,90\xa0€" in de.text and "Gültig bis 31. Dezember 2026." in de.text
    ja = rendering.render("perk_issued", ctx, locale="ja", branding=rendering.SAMPLE_BRANDING)
    assert "€4.90" in ja.text and "2026年12月31日" in ja.text
    points = rendering.render("points_earned", {"points": 1200, "balance": 1}, locale="fr",
                              branding=rendering.SAMPLE_BRANDING)
    assert points.subject == "Vous avez gagné 1\u202f200 points" and "1 point" in points.text
    gb = rendering.render("shipped", samples.sample_context("shipped"), locale="en-GB",
                          branding=rendering.SAMPLE_BRANDING)
    us = rendering.render("shipped", samples.sample_context("shipped"), locale="en-US",
                          branding=rendering.SAMPLE_BRANDING)
    assert "24 November 2026" in gb.text and "November 24, 2026" in us.text


@pytest.mark.parametrize(("given", "expected"), [
    ("de-AT", "de"), ("de_CH", "de"), ("zh-TW", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("zh-CN", "zh-CN"),
    ("pt-BR", "en"), (None, "en"), ("", "en"), ("JA", "ja"), ("nl-BE", "nl"),
])
def test_locale_negotiation(given, expected):
    assert rendering.negotiate(given) == expected


def test_branding_and_data_cannot_inject_markup_or_liquid():
    brand = rendering.Branding.build(shop_name="<b>Shop</b>", sender_email="x@example.com",
                                     logo_url="javascript:alert(1)", primary_color="red;}body{x:y",
                                     accent_color="#abc")
    assert brand.logo_url is None and brand.primary_color == "#1f6feb" and brand.accent_color == "#abc"
    ctx = dict(samples.sample_context("exception", "customs_delay"),
               event_description="{{ shop.secret }} {% raw %}<script>alert(1)</script>", customer_name="{{x}}")
    out = rendering.render("exception", ctx, locale="en", branding=brand)
    assert "<script>" not in out.html and "&lt;b&gt;Shop&lt;/b&gt;" in out.html
    assert "{{ shop.secret }}" in out.text  # shown as typed: e-mail is not Liquid
    # The tracking page is Liquid (app proxy): braces from data never reach it as braces.
    page, _lang = rendering.render_page("pages/track.html", {"order": {"name": "{{ evil }}"}, "error": None,
                                                             "shipments": [dict(ctx, status="Exception",
                                                                                reason="customs_delay",
                                                                                events=[])]}, locale="en")
    assert "{{" not in page and "{%" not in page and "&#123;&#123; evil &#125;&#125;" in page


def test_catalogs_compile_in_memory():
    for lang in NON_ENGLISH:
        t = rendering.translations(lang)
        assert t.gettext("Track your parcel") != "Track your parcel"
    assert rendering.translations("en").gettext("Track your parcel") == "Track your parcel"
