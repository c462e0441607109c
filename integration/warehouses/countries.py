"""The countries a warehouse serves, a transit time names and a routing rule excludes: ISO 3166-1
alpha-2 codes, from CLDR's territory list (through Babel, pinned) rather than a hand-kept copy,
with their names in the admin's language for the country picker.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

# CLDR territories with two-letter codes that are not countries: groupings (EU, EZ, UN, QO),
# private-use and unknown codes (XA, XB, ZZ) and ISO's exceptionally reserved codes (AC, CP, CQ,
# DG, EA, IC, TA). XK (Kosovo), user-assigned in ISO, stays: Shopify and carriers use it.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"})
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES)


@lru_cache(maxsize=32)
def country_options(locale: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country, named and sorted in ``locale`` (English when Babel does not
    know it)."""
    try:
        names = Locale.parse(locale.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError, TypeError):
        names = Locale("en").territories
    return tuple(sorted(((code, names.get(code, code)) for code in COUNTRIES), key=lambda item: item[1].casefold()))
