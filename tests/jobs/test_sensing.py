"""Sensing on real rows (SQLite and PostgreSQL): shifts raise one alert each, stock alerts once per
episode, transfers between warehouses of a region, the digest once per shop per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from integration.extensions import db
from integration.insights import digest
from integration.insights.sensing import sense_shop
from integration.models import (
    Alert,
    DemandDay,
    DemandShift,
    InsightSeries,
    LeadTime,
    TransferSuggestion,
)
from integration.models.notification import Notification, OrderFeedback
from jobs import sensing as sensing_jobs
from tests.helpers import cron_schedule
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse

TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.fixture
def shop(app):
    shop = make_shop()
    shop.name, shop.email, shop.primary_locale = "Acme Outdoor", "owner@acme.example", "en"
    db.session.commit()
    return shop


def warehouse(shop, code, country="DE", region="EU", **kw):
    account = make_account(shop)
    return make_warehouse(shop, account, code, country, region=region, **kw)


def series(shop, wh, sku, *, available=100, forecast=1.0, history=None, censored=()):
    """The series the computation left, and its demand history ending yesterday."""
    row = InsightSeries(shop_id=shop.id, warehouse_id=wh.id, sku=sku, dirty=False, forecast_daily=forecast,
                        forecast_sd=0.0, available=available,
                        days_of_cover=(available / forecast) if forecast else None)
    db.session.add(row)
    for offset, units in enumerate(reversed(history or [])):
        day = TODAY - timedelta(days=offset + 1)
        db.session.add(DemandDay(shop_id=shop.id, warehouse_id=wh.id, sku=sku, day=day, units=units,
                                 cancelled=0, censored=day in censored))
    db.session.commit()
    return row


def run(shop, ids=None, today=TODAY):
    counts = sense_shop(shop.id, ids, today=today)
    db.session.commit()
    return counts


def alerts(shop, kind):
    return db.session.execute(select(Alert).where(Alert.shop_id == shop.id, Alert.kind == kind)
                              .order_by(Alert.id)).scalars().all()


def test_a_thirty_percent_rise_raises_exactly_one_shift_alert(shop):
    de = warehouse(shop, "DEWH")
    tent = series(shop, de, "TENT", available=500, forecast=13, history=[10] * 56 + [13] * 14)
    series(shop, de, "MUG", available=500, forecast=10, history=[10] * 70)
    assert run(shop)["shifts"] == 1
    assert run(shop)["shifts"] == 0  # the computation ran twice
    run(shop, [tent.id])
    (shift,) = db.session.execute(select(DemandShift)).scalars().all()
    assert (shift.sku, shift.direction, shift.change_pct, shift.ended_on) == ("TENT", "rise", 30.0, None)
    (alert,) = alerts(shop, "demand_rise")
    assert alert.subject == f"shift:{shift.id}" and "up 30 %" in alert.message
    # The chart is drawn when the alert is looked at, from the series' own rows (the Insights
    # page's GET /api/insights/series/<warehouse>/<sku>), not stored with every alert.
    details = alert.details
    assert "chart" not in details and (details["warehouse_id"], details["sku"], details["warehouse"]) == (
        de.id, "TENT", "DEWH")
    # Listed in the merchant's daily digest, not e-mailed on its own.
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "merchant_alert")) == 0
    assert digest.send_digests(TODAY) == 1
    (notice,) = db.session.execute(select(Notification).where(Notification.kind == "stock_digest")).scalars().all()
    assert [(i["sku"], i["direction"], i["change_pct"]) for i in notice.context["shifts"]] == [("TENT", "rise", 30.0)]
    assert notice.context["wide_fall"] is None


def test_a_stopped_order_sync_sends_one_digest_not_an_e_mail_per_falling_series(shop):
    """Orders stopped arriving: every series 'falls' the same night. The merchant gets one
    e-mail listing the biggest falls and saying a fall this wide points at the sync."""
    de = warehouse(shop, "DEWH")
    fr = warehouse(shop, "FRWH", "FR")
    for n in range(40):
        for wh in (de, fr):
            series(shop, wh, f"SKU-{n:02d}", available=500, forecast=10,
                   history=[10] * 56 + [8 - n % 7] * 7 + [1] * 7)
    assert run(shop)["shifts"] == 80
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "merchant_alert")) == 0
    assert digest.send_digests(TODAY) == 1
    (notice,) = db.session.execute(select(Notification).where(Notification.kind == "stock_digest")).scalars().all()
    context = notice.context
    assert len(context["shifts"]) == digest.MAX_SHIFTS and context["more_shifts"] == 80 - digest.MAX_SHIFTS
    assert context["wide_fall"] == {"falls": 80, "selling": 80}
    assert {i["direction"] for i in context["shifts"]} == {"fall"}
    changes = [i["change_pct"] for i in context["shifts"]]
    assert changes == sorted(changes)  # the deepest falls first
    # The next day's digest lists only what is new: these shifts are still open, not listed again.
    run(shop, today=TODAY + timedelta(days=1))
    assert digest.send_digests(TODAY + timedelta(days=1)) == 0


def test_a_two_week_fall_raises_one_alert_with_the_reason_low_ratings_share(shop):
    de = warehouse(shop, "DEWH")
    series(shop, de, "TENT", available=500, forecast=7, history=[10] * 56 + [7] * 14)
    for n, comment in enumerate(["Not waterproof!", "not waterproof", "Leaks: not waterproof at all", None]):
        order = make_order(shop, f"o-{n}", [("TENT", 1)], country="DE")
        db.session.add(OrderFeedback(shop_id=shop.id, order_id=order.id, rating=1, comment=comment,
                                     created_at=datetime(2026, 11, 25, tzinfo=UTC)))
    db.session.commit()
    run(shop)
    run(shop)
    (shift,) = db.session.execute(select(DemandShift)).scalars().all()
    assert (shift.direction, shift.change_pct, shift.reason) == ("fall", -30.0, "not waterproof")
    (alert,) = alerts(shop, "demand_fall")
    assert alert.details["reason"] == "not waterproof" and "not waterproof" in alert.message


def test_a_shift_that_ends_is_closed_and_a_new_one_is_a_new_alert(shop):
    de = warehouse(shop, "DEWH")
    tent = series(shop, de, "TENT", available=500, forecast=13, history=[10] * 56 + [13] * 14)
    run(shop)
    # A week later the rise is over: the last week is back at the baseline.
    for offset in range(7):
        db.session.add(DemandDay(shop_id=shop.id, warehouse_id=de.id, sku="TENT", day=TODAY + timedelta(days=offset),
                                 units=10, cancelled=0))
    db.session.commit()
    assert run(shop, [tent.id], today=TODAY + timedelta(days=7))["shifts_ended"] == 1
    (shift,) = db.session.execute(select(DemandShift)).scalars().all()
    assert shift.ended_on == TODAY + timedelta(days=7)
    (alert,) = alerts(shop, "demand_rise")
    assert alert.resolved_at is not None


def test_a_stock_out_week_is_no_fall(shop):
    de = warehouse(shop, "DEWH")
    out = {TODAY - timedelta(days=d) for d in range(1, 8)}
    series(shop, de, "TENT", available=0, forecast=10, history=[10] * 63 + [0] * 7, censored=out)
    run(shop)
    assert db.session.scalar(select(func.count()).select_from(DemandShift)) == 0


def test_low_stock_alert_once_per_episode(shop):
    de = warehouse(shop, "DEWH")
    db.session.add(LeadTime(shop_id=shop.id, warehouse_id=de.id, sku=None, production_days=5, line_haul_days=10,
                            customs_days=3, receiving_days=2))  # 20 days
    db.session.commit()
    mug = series(shop, de, "MUG", available=30, forecast=2.0)  # 15 days of cover < 20
    run(shop)
    run(shop, today=TODAY + timedelta(days=1))  # still low the next day: the same episode
    (low,) = alerts(shop, "low_stock")
    assert low.subject == f"series:{mug.id}:{TODAY.isoformat()}" and low.resolved_at is None
    assert low.details["days_of_cover"] == 15.0 and low.details["lead_time_days"] == 20
    mug.available = 0
    db.session.commit()
    run(shop, today=TODAY + timedelta(days=2))
    run(shop, today=TODAY + timedelta(days=3))
    (out,) = alerts(shop, "stock_out")
    assert out.resolved_at is None and len(alerts(shop, "low_stock")) == 1
    # Restocked: the episode ends; the next shortage is a new episode, a new alert.
    mug.available = 500
    db.session.commit()
    run(shop, today=TODAY + timedelta(days=4))
    assert all(a.resolved_at is not None for a in alerts(shop, "low_stock") + alerts(shop, "stock_out"))
    mug.available = 10
    db.session.commit()
    run(shop, today=TODAY + timedelta(days=9))
    lows = alerts(shop, "low_stock")
    assert len(lows) == 2 and lows[1].subject.endswith((TODAY + timedelta(days=9)).isoformat())
    # Stock alerts go out in the digest, not one e-mail each.
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "merchant_alert")) == 0


def test_a_transfer_appears_when_one_warehouse_runs_dry_and_a_neighbour_has_stock(shop):
    west = warehouse(shop, "USWEST", "US", "NA")
    east = warehouse(shop, "USEAST", "US", "NA", transit_days={"US": [2, 4]})
    far = warehouse(shop, "DEWH", "DE", "EU")
    dry = series(shop, west, "TENT", available=0, forecast=3.0)
    series(shop, east, "TENT", available=400, forecast=2.0)
    series(shop, far, "TENT", available=900, forecast=1.0)
    run(shop, [dry.id])
    run(shop, [dry.id])
    (t,) = db.session.execute(select(TransferSuggestion)).scalars().all()
    assert (t.from_warehouse_id, t.to_warehouse_id, t.status) == (east.id, west.id, "open")
    assert t.quantity == 3 * (33 + 14)  # lifts the dry one to its lead time + margin
    assert 400 - t.quantity >= 2 * (33 + 14)  # and leaves east its own need
    assert t.expected_arrival == date(2026, 12, 7)  # 4 business days after a Tuesday
    # Recomputed with a changed position: the old one is superseded, one open remains.
    db.session.execute(InsightSeries.__table__.update().where(InsightSeries.id == dry.id).values(forecast_daily=4.0))
    db.session.commit()
    run(shop, [dry.id])
    rows = db.session.execute(select(TransferSuggestion).order_by(TransferSuggestion.id)).scalars().all()
    assert [r.status for r in rows] == ["superseded", "open"] and rows[1].quantity == 4 * 47


def test_the_digest_is_queued_once_per_shop_per_day(shop):
    de = warehouse(shop, "DEWH", name="Berlin")
    series(shop, de, "MUG", available=0, forecast=2.0)
    series(shop, de, "TENT", available=10, forecast=1.0)
    run(shop)
    assert digest.send_digests(TODAY) == 1
    assert digest.send_digests(TODAY) == 0  # the cron ran twice
    (notice,) = db.session.execute(select(Notification).where(Notification.kind == "stock_digest")).scalars().all()
    assert (notice.recipient, notice.subject) == ("owner@acme.example", f"digest:{TODAY.isoformat()}")
    items = notice.context["items"]
    assert [(i["kind"], i["sku"], i["warehouse"]) for i in items] == [("stock_out", "MUG", "Berlin"),
                                                                       ("low_stock", "TENT", "Berlin")]
    assert digest.send_digests(TODAY + timedelta(days=1)) == 1  # the next day: the next digest


def test_the_digest_job_is_in_the_catalog_and_on_the_daily_schedule(shop):
    assert sensing_jobs.send_stock_digests() == 0  # nothing to report yet
    assert cron_schedule()["send_stock_digests"]["cron"] == "0 6 * * *"
