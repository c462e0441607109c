"""CSV lines for the admin's exports, safe to open in a spreadsheet.

A merchant opens these files in Excel or Sheets; a cell that starts with ``=`` (or + - @) would run
as a formula there (CSV injection), so such text gets a leading apostrophe. Shared by every export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


def safe_cell(value) -> object:
    """A spreadsheet never runs a cell as a formula: text starting with = + - @ (or a tab or CR)
    gets a leading apostrophe. Numbers stay numbers; None is an empty cell."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_line(values: Sequence) -> str:
    """One CSV line (with its line end) of ``values``, each made safe by :func:`safe_cell`."""
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(v) for v in values])
    return out.getvalue()
