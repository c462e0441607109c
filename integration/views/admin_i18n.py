"""The embedded admin's language: Shopify's ``locale`` launch parameter, negotiated against the eight
languages the notices already speak, and its gettext catalogs.

Each admin page keeps its strings in its own catalog,
``integration/translations/<catalog>/LC_MESSAGES/admin_<page>.po`` (``admin_base.po`` holds the
navigation and what every page shares), so pages are translated and reviewed one at a time; a
language's catalogs are merged into one :class:`~babel.support.Translations` when first asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from gettext import NullTranslations
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from integration.notices.render import CATALOGS, TRANSLATIONS_DIR, negotiate

CATALOG_GLOB = "admin_*.po"


def admin_locale(requested: str | None) -> str:
    """The supported language closest to ``requested`` (``de-AT`` -> ``de``), else English."""
    return negotiate(requested[:35] if requested else None)


@functools.cache
def admin_translations(lang: str) -> NullTranslations:
    """Every admin catalog of ``lang``, merged (English: the msgids themselves)."""
    if lang not in CATALOGS:
        return NullTranslations()
    merged: Translations | None = None
    for po in sorted((TRANSLATIONS_DIR / CATALOGS[lang] / "LC_MESSAGES").glob(CATALOG_GLOB)):
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=CATALOGS[lang])
        buffer = BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        part = Translations(fp=buffer, domain=po.stem)
        merged = part if merged is None else merged.merge(part)
    return merged or NullTranslations()


def gettext_for(lang: str) -> Callable[..., str]:
    """The templates' ``_``: ``_("%(n)s orders", n=5)`` translates, then fills the keywords."""
    translations = admin_translations(lang)

    def gettext(message: str, **variables) -> str:
        text = translations.gettext(message)
        return text % variables if variables else text

    return gettext
