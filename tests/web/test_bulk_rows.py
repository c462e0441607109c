"""insert_rows: the values arrive as given on both backends (PostgreSQL: one JSON list per column),
and the JSON lists hold what PostgreSQL's casts read (NaN, infinities, dates, numpy scalars)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import select

from integration.extensions import db
from integration.models import Alert, InsightSeries, Warehouse, WarehouseAccount
from integration.models.upsert import insert_rows, json_list
from tests.test_loyalty_support import make_shop

AWKWARD = ["plain", 'quote " and \\ backslash', "line\nbreak, comma", "ünïcödé ✓", "", "NULL", "[1, 2]"]


def test_json_list_spells_values_as_the_casts_read_them():
    values = json.loads(json_list([1, np.int64(2), 0.1, float("nan"), float("inf"), -math.inf, None,
                                   date(2026, 1, 2), True, "x"]))
    assert values == [1, 2, 0.1, "NaN", "Infinity", "-Infinity", None, "2026-01-02", True, "x"]


def test_insert_rows_round_trips_text_json_nulls_and_floats(app):
    with app.app_context():
        shop = make_shop()
        rows = [{"shop_id": shop.id, "kind": "low_stock", "subject": f"s:{i}", "message": text,
                 "details": None if i % 2 else {"text": text, "n": i}} for i, text in enumerate(AWKWARD)]
        created = insert_rows(Alert, rows, lambda statement: statement.returning(Alert.id)).all()
        assert len(created) == len(AWKWARD)
        stored = {a.subject: a for a in db.session.execute(select(Alert)).scalars()}
        for i, text in enumerate(AWKWARD):
            alert = stored[f"s:{i}"]
            assert alert.message == text
            assert alert.details == (None if i % 2 else {"text": text, "n": i})
            assert alert.created_at is not None and alert.created_at.tzinfo is not None  # the column default

        account = WarehouseAccount(shop_id=shop.id, provider="winit", name="W", credentials="{}")
        db.session.add(account)
        db.session.flush()
        warehouse = Warehouse(shop_id=shop.id, account_id=account.id, code="W1", name="W1", country_code="DE")
        db.session.add(warehouse)
        db.session.flush()
        now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        floats = [1 / 3, 1e-300, 123456789.123456789, 0.0]
        insert_rows(InsightSeries, [
            {"shop_id": shop.id, "warehouse_id": warehouse.id, "sku": f"SKU-{i}", "dirty": bool(i % 2),
             "computed_at": now, "forecast_daily": value, "forecast_sd": value, "available": i,
             "days_of_cover": None if i == 0 else value, "baseline_daily": value, "recent_daily": value,
             "created_at": now, "updated_at": now} for i, value in enumerate(floats)])
        series = {s.sku: s for s in db.session.execute(select(InsightSeries)).scalars()}
        for i, value in enumerate(floats):
            row = series[f"SKU-{i}"]
            assert row.forecast_daily == value  # exactly: the text keeps every bit of a double
            assert row.days_of_cover == (None if i == 0 else value)
            assert (row.dirty, row.available, row.computed_at) == (bool(i % 2), i, now)
        db.session.rollback()
