"""Every string the admin templates translate has a translation in each of the seven catalogs,
with the same placeholders, and no catalog keeps a string no template uses any more."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from integration.notices import render as rendering
from integration.views.admin_i18n import CATALOG_GLOB, admin_translations, gettext_for

NON_ENGLISH = [lang for lang in rendering.SUPPORTED_LOCALES if lang != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TEMPLATES = "**/templates/admin/**.html"


def admin_msgids() -> set[str]:
    """Every ``_()`` msgid of the admin templates, extracted as pybabel does."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(rendering.PACKAGE), [(TEMPLATES, "jinja2")], options_map={TEMPLATES: {}}, keywords={"_": None}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog_entries(lang: str):
    folder = rendering.TRANSLATIONS_DIR / rendering.CATALOGS[lang] / "LC_MESSAGES"
    for po in sorted(folder.glob(CATALOG_GLOB)):
        with po.open("rb") as fp:
            for message in read_po(fp, locale=rendering.CATALOGS[lang]):
                if message.id:
                    yield po.name, message


@pytest.mark.parametrize("lang", NON_ENGLISH)
def test_every_admin_string_is_translated_with_its_placeholders(lang):
    used = admin_msgids()
    assert {"Home", "Orders", "Show as table"} <= used
    entries = {}
    for name, message in catalog_entries(lang):
        assert not message.fuzzy, f"{lang}/{name}: {message.id!r} is fuzzy"
        entries.setdefault(message.id, message)
    for msgid in sorted(used):
        entry = entries.get(msgid)
        assert entry is not None and entry.string, f"{lang}: {msgid!r} has no translation in any admin_*.po"
        assert set(PLACEHOLDER.findall(entry.string)) == set(PLACEHOLDER.findall(msgid)), f"{lang}: {msgid!r}"
    stale = sorted(set(entries) - used)
    assert stale == [], f"{lang}: no admin template uses {stale}"


def test_the_catalogs_of_a_language_are_merged_and_english_is_the_msgid():
    assert admin_translations("de").gettext("Orders") == "Bestellungen"
    assert gettext_for("ja")("Stock") == "在庫"
    assert gettext_for("en")("Orders") == "Orders"
    assert gettext_for("fr")("Date") == "Date"
