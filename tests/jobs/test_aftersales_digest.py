"""The weekly after-sales digest on real rows (SQLite and PostgreSQL): once per shop and week however
often the job runs, with the hand-counted figures of tests/aftersales_fixtures.py, rendered in the
shop's language; nothing for a week without after-sales."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models.notification import Notification
from integration.notices import render
from integration.returns import weekly_digest
from jobs import aftersales as aftersales_jobs
from tests.aftersales_fixtures import MUG, TENT, seed_aftersales
from tests.helpers import cron_schedule
from tests.helpers_warehouse import make_shop

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
NEXT_MONDAY = date(2026, 11, 30)


@pytest.fixture
def shops(app):
    acme, beta = make_shop(), make_shop("beta.myshopify.com")
    acme.name, acme.email, acme.primary_locale = "Acme Outdoor", "owner@acme.example", "de"
    beta.name, beta.email, beta.primary_locale = "Beta", "owner@beta.example", "en"
    db.session.commit()
    seed_aftersales(acme, AT)
    seed_aftersales(beta, AT, prefix="B")
    return acme, beta


def digests() -> list[Notification]:
    return db.session.execute(select(Notification).where(Notification.kind == "aftersales_digest")
                              .order_by(Notification.id)).scalars().all()


def test_the_digest_is_queued_once_per_shop_per_week_with_the_hand_counted_figures(shops):
    assert weekly_digest.send_digests(NEXT_MONDAY) == 2
    assert weekly_digest.send_digests(NEXT_MONDAY) == 0  # the cron ran twice
    assert aftersales_jobs.send_aftersales_digests() == 0  # today's run: a later week, nothing in it
    acme_digest, beta_digest = digests()
    assert (acme_digest.recipient, acme_digest.subject) == ("owner@acme.example", "aftersales-digest:2026-11-23")
    assert beta_digest.recipient == "owner@beta.example"
    c = acme_digest.context
    assert (c["week"], c["week_end"]) == ("2026-11-23", "2026-11-29")
    assert [(g["sku"], g["market"], g["units"]) for g in c["reasons"]] == [(MUG, "DE", 7), (MUG, "US", 3),
                                                                          (TENT, "DE", 1)]
    assert [r["reason"] for r in c["reasons"][0]["reasons"]] == ["SIZE_TOO_SMALL", "DEFECTIVE", "COLOR"]
    assert c["nps"] == {"score": 16.7, "answers": 6}
    assert c["kept"] == {"due": 6, "kept": 4, "rate": 66.7}
    assert [(w["name"], w["nps"], w["kept_rate"]) for w in c["warehouses"]] == [("Berlin", 25.0, 75.0),
                                                                                ("LA West", 0.0, 50.0)]
    german = next(t for t in c["themes"] if t["language"] == "de")
    assert (german["comments"], german["themes"][0]["term"], german["themes"][0]["praise"]) == (3, "Lieferung", 2)

    out = render.render("aftersales_digest", c, locale="de", branding=render.SAMPLE_BRANDING, links={}, country="DE")
    assert out.missing == () and "66,7" in out.text and "Zu klein (3)" in out.text


def test_a_week_without_after_sales_sends_nothing_and_the_next_active_week_sends_again(shops):
    assert weekly_digest.send_digests(date(2026, 11, 23)) == 0  # the week of Nov 16: nothing happened
    assert weekly_digest.send_digests(NEXT_MONDAY) == 2
    assert weekly_digest.send_digests(date(2026, 12, 3)) == 0  # still the same week's Monday: already sent
    assert {n.subject for n in digests()} == {"aftersales-digest:2026-11-23"}


def test_the_digest_job_is_in_the_catalog_and_on_the_weekly_schedule(app):
    assert cron_schedule()["send_aftersales_digests"]["cron"] == "0 7 * * 1"
