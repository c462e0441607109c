"""Country codes as vendors send them, read as ISO 3166 alpha-2 (the domain's one form).

CLDR's tables, through Babel (already pinned for the notices), do the mapping: no hand-kept list.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel import Locale
from babel.core import get_global


def normalise_country(value: Any) -> str | None:
    """ISO alpha-2 from what a vendor sends: alpha-2 (``"US"``), alpha-3 (``"USA"``, as ShipBob's
    fulfillment centers) or an English name (``"United States"``); None for anything else."""
    text = str(value or "").strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _country_codes().get(text.upper())


@cache
def _country_codes() -> dict[str, str]:
    """Alpha-3 codes and English names (upper case) -> alpha-2, for current ISO countries only."""
    current = {code for code in Locale("en").territories if len(code) == 2 and code.isalpha()}
    table = {name.upper(): code for code, name in Locale("en").territories.items() if code in current}
    for alias, targets in get_global("territory_aliases").items():
        # Retired codes (SUN, YUG…) map to several countries: not one answer, so not in the table.
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in current:
            table[alias] = targets[0]
    return table
