"""Insert-or-get under a unique constraint, then update only if newer: for copies of outside
records (orders, fulfillments, stock levels…) that arrive duplicated and out of order.

Two statements, each atomic, on PostgreSQL and SQLite alike:

1. ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING id``: the first copy creates the row. Two
   writers racing on a new key cannot both insert; the loser sees the conflict.
2. Otherwise ``UPDATE … WHERE key AND (stamp IS NULL OR stamp < :new) RETURNING id``: a
   compare-and-set on the version stamp (the vendor's ``updated_at``). An older or equal copy
   matches no row and changes nothing; concurrent writers are ordered by the row lock, and each
   re-checks the stamp against the committed value.

Never check-then-insert: a SELECT followed by an INSERT loses to a concurrent writer.
Statements go through the ORM session (same transaction as the caller) but bypass the identity
map: objects already loaded in the session are not refreshed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Table, Text, bindparam, cast, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from integration.extensions import db

STAMP = "external_updated_at"


@dataclass(frozen=True)
class Upserted:
    applied: bool
    """The row now holds these values (created, or updated because the copy was newer)."""
    row_id: int | None
    """The row's id when applied; None when the stored copy was as new or newer."""
    created: bool = False


def _table(model: Any) -> Table:
    return model.__table__ if hasattr(model, "__table__") else model


def insert(model: Any):
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(_table(model))


def insert_rows(model: Any, rows: Sequence[Mapping[str, Any]], finish: Callable = lambda statement: statement):
    """INSERT many rows (same keys each) in one statement: on PostgreSQL the values travel as one
    JSON array per column (``INSERT … SELECT``, :func:`unnested`), so psycopg converts a short statement
    instead of SQLAlchemy's insertmanyvalues pages with a placeholder per value (at 100,000 rows
    that conversion costs more than the database). Elsewhere an executemany. ``finish`` adds the
    ON CONFLICT and RETURNING clauses. Columns left out take their Python defaults, as the ORM
    would give them. Returns the result."""
    table = _table(model)
    statement = insert(table)
    if db.dialect != "postgresql":
        return db.session.execute(finish(statement), list(rows))
    names = list(rows[0])
    defaults = {c.name: (c.default.arg(None) if c.default.is_callable else c.default.arg) for c in table.columns
                if c.name not in names and c.default is not None and (c.default.is_callable or c.default.is_scalar)}

    source = select(*(unnested(name, [row[name] for row in rows], table.c[name].type) for name in names),
                    # the same value on every row: one parameter, not an array of copies
                    *(literal(value, table.c[name].type).label(name) for name, value in defaults.items()))
    return db.session.execute(finish(statement.from_select([*names, *defaults], source)))


def upsert_if_newer(model: Any, key: Mapping[str, Any], values: Mapping[str, Any], stamp: datetime, *,
                    stamp_column: str = STAMP) -> Upserted:
    """Store ``values`` at ``key`` (the columns of a unique constraint) if ``stamp`` is newer than
    the stored one (a NULL stamp counts as older than anything)."""
    table = _table(model)
    session = db.session
    created_id = session.execute(
        insert(table)
        .values({**key, **values, stamp_column: stamp})
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(table.c.id)
    ).scalar()
    if created_id is not None:
        return Upserted(True, created_id, created=True)
    updated_id = session.execute(
        newer_only(update(table), table, stamp, stamp_column)
        .where(*(table.c[name] == value for name, value in key.items()))
        .values({**values, stamp_column: stamp})
        .returning(table.c.id)
    ).scalar()
    return Upserted(updated_id is not None, updated_id)


def newer_only(statement, table: Table, stamp: datetime, stamp_column: str = STAMP):
    """Restrict an UPDATE to rows whose stamp is older than ``stamp`` (or unset)."""
    column = table.c[stamp_column]
    return statement.where(or_(column.is_(None), column < stamp))


def upsert(model: Any, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
    """Insert, or overwrite on conflict, unconditionally; returns the row id. For child rows whose
    parent already passed the newer-only check (order lines of an applied order)."""
    if not values:
        raise ValueError("upsert needs values to write on conflict")
    table = _table(model)
    statement = insert(table).values({**key, **values})
    statement = statement.on_conflict_do_update(index_elements=list(key), set_=dict(values))
    return db.session.execute(statement.returning(table.c.id)).scalar_one()


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # PostgreSQL's spellings


def _json_default(value):
    """What ``json`` cannot encode itself: dates and times as ISO text, numpy scalars as Python."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not an SQL value")


def json_list(values: list) -> str:
    """``values`` as one JSON array text (dates ISO, NaN and infinities as PostgreSQL spells them)."""
    try:
        return json.dumps(values, default=_json_default, allow_nan=False)
    except ValueError:  # NaN or infinity, which JSON has no words for: as text the cast reads
        return json.dumps([_NON_FINITE.get(str(v), v) if isinstance(v, float) and not math.isfinite(v) else v
                           for v in values], default=_json_default)


def unnested(name: str, values: list, kind):
    """PostgreSQL: ``values`` as a set-returning column of ``kind`` (one row per value, in order;
    several in one SELECT list run in step), labelled ``name``. The list travels as one JSON text
    that the server splits (``json_array_elements_text``): psycopg's own list adaptation dumps
    element by element in Python, which costs seconds in a nightly run's bulk writes. Each value
    goes through the column type's bind processing first (UTC datetimes, booleans)."""
    dialect = db.session.get_bind().dialect
    if isinstance(kind, JSON):  # each value a JSON text (NULL stays NULL), parsed by the cast
        values = [None if v is None else json.dumps(v) for v in values]
    else:
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values = [process(v) for v in values]
    element = func.json_array_elements_text(cast(bindparam(f"rows_{name}", json_list(values), type_=Text), JSON))
    if isinstance(kind, String) and not isinstance(kind, JSON):
        return element.label(name)  # text: the column's own assignment cast checks the length
    return cast(element, kind).label(name)
