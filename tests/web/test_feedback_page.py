"""The customer's feedback page from the "delivered" e-mail: the tap records its star at once, the
page's form the rest, once per order (a second answer updates, a replayed form is refused);
forged, expired, other-shop, oversized and malformed requests are 4xx and change nothing."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from integration import signals
from integration.extensions import db
from integration.models import OrderFeedback
from integration.notices import links
from tests.helpers_warehouse import make_order, make_shop


@pytest.fixture
def web(app):
    return app.test_client()


@pytest.fixture
def order(web):
    shop = make_shop()
    found = make_order(shop, "o-4001", [("MUG", 1)], email="ada@example.com")
    found.name, found.locale = "#4001", "de"
    db.session.commit()
    return found


@pytest.fixture
def announced():
    seen: list[dict] = []
    receiver = signals.connect(signals.FEEDBACK_RECEIVED, lambda **kw: seen.append(kw))
    yield seen
    signals.disconnect(signals.FEEDBACK_RECEIVED, receiver)


def star_path(order, rating: int | str | None = None) -> str:
    url = links.feedback_url(order.shop_id, order.id, "de")
    path = url[url.index("/notifications/feedback"):]
    return path if rating is None else f"{path}&rating={rating}"


def form_of(response) -> dict[str, str]:
    html = response.get_data(as_text=True)
    return {name: value for name, value in re.findall(r'<input type="hidden" name="(\w)" value="([^"]*)">', html)}


def rows() -> list[OrderFeedback]:
    db.session.expire_all()
    return db.session.query(OrderFeedback).all()


ANSWERS = {"rating": "4", "delivery_speed": "5", "packaging": "3", "product_quality": "4", "after_sales": "",
           "nps": "9", "comment": "  Schnell und gut verpackt  "}


def test_a_tap_records_its_star_and_opens_the_form_for_the_rest(web, order, announced):
    first = web.get(star_path(order, 2))
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    html = first.get_data(as_text=True)
    assert "Danke, Ihre Bewertung ist gespeichert." in html and "Liefergeschwindigkeit" in html
    assert 'name="rating" value="2" checked' in html
    [row] = rows()
    assert (row.rating, row.email, row.delivery_speed, row.nps) == (2, "ada@example.com", None, None)
    assert announced == [{"shop_id": order.shop_id, "order_id": order.id, "rating": 2}]
    # A second tap (another star, or the same one again) updates: one row, one announcement.
    again = web.get(star_path(order, 5))
    assert again.status_code == 200 and form_of(again)["n"] != form_of(first)["n"]
    assert [r.rating for r in rows()] == [5] and len(announced) == 1


def test_the_form_stores_the_answers_once_and_a_replay_changes_nothing(web, order, announced):
    form = form_of(web.get(star_path(order, 3)))
    sent = web.post("/notifications/feedback", data={**form, **ANSWERS})
    assert sent.status_code == 200 and "Ihre Antworten zur Bestellung #4001 sind gespeichert." in sent.get_data(
        as_text=True)
    [row] = rows()
    assert (row.rating, row.delivery_speed, row.packaging, row.product_quality, row.after_sales, row.nps) == (
        4, 5, 3, 4, None, 9)
    assert row.comment == "Schnell und gut verpackt" and row.form_nonce is None
    replay = web.post("/notifications/feedback", data={**form, **ANSWERS, "nps": "0"})
    assert replay.status_code == 409 and "bereits gesendet" in replay.get_data(as_text=True)
    assert rows()[0].nps == 9
    # Answering again goes through a new tap; the page shows what was stored, and the new form updates it.
    page = web.get(star_path(order, 4))
    html = page.get_data(as_text=True)
    assert 'name="packaging" value="3" checked' in html and 'name="nps" value="9" checked' in html
    assert "Schnell und gut verpackt</textarea>" in html
    changed = web.post("/notifications/feedback", data={**form_of(page), **ANSWERS, "after_sales": "2"})
    assert changed.status_code == 200
    [row] = rows()
    assert (row.after_sales, row.nps) == (2, 9) and len(announced) == 1


def test_an_older_form_is_superseded_by_a_newer_tap(web, order):
    old = form_of(web.get(star_path(order, 3)))
    new = form_of(web.get(star_path(order, 4)))
    assert web.post("/notifications/feedback", data={**old, **ANSWERS}).status_code == 409
    assert rows()[0].delivery_speed is None
    assert web.post("/notifications/feedback", data={**new, **ANSWERS}).status_code == 200
    assert web.post("/notifications/feedback", data={**new, **ANSWERS, "n": ""}).status_code == 409
    assert web.post("/notifications/feedback", data={**new, **ANSWERS, "n": "f" * 32}).status_code == 409


def test_head_requests_and_prefetches_record_nothing(web, order, announced):
    assert web.head(star_path(order, 1)).status_code == 204
    assert web.get(star_path(order, 1), headers={"Sec-Purpose": "prefetch;prerender"}).status_code == 204
    assert web.get(star_path(order, 1), headers={"X-Purpose": "preview"}).status_code == 204
    assert rows() == [] and announced == []


def test_forged_expired_and_other_shop_links_are_refused(web, order, monkeypatch):
    other = make_shop("beta.myshopify.com")
    token_path = star_path(order, 5)
    forged = token_path.replace("t=", "t=x", 1)
    foreign = links.feedback_url(other.id, order.id, "de")  # a valid signature for another shop's id
    foreign = foreign[foreign.index("/notifications/feedback"):] + "&rating=5"
    with monkeypatch.context() as m:  # a link signed 61 days ago (they last 60)
        m.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 61 * 24 * 3600)
        expired = star_path(order, 5)
    for path in (forged, foreign, expired, "/notifications/feedback?rating=5",
                 "/notifications/feedback?t=" + "a" * 600 + "&rating=5"):
        response = web.get(path)
        assert response.status_code == 404, path
        assert "This link is not valid or has expired." in response.get_data(as_text=True)
        assert web.post(path, data=ANSWERS).status_code == 404
    assert rows() == []
    order.redacted_at = order.created_at  # the customer's data was erased: their link no longer works
    db.session.commit()
    assert web.get(token_path).status_code == 404 and rows() == []


def test_malformed_answers_are_refused_and_change_nothing(web, order):
    for rating in ("", "0", "6", "x", "5.0", "05", "٣"):
        assert web.get(star_path(order, rating)).status_code == 400, rating
    assert web.get(star_path(order)).status_code == 400
    assert rows() == []
    form = form_of(web.get(star_path(order, 3)))
    bad = ({"rating": ""}, {"rating": "6"}, {"delivery_speed": "0"}, {"packaging": "x"}, {"nps": "11"},
           {"nps": "-1"}, {"after_sales": "3 "}, {"comment": "é" * 2001})
    for change in bad:
        response = web.post("/notifications/feedback", data={**form, **ANSWERS, **change})
        assert response.status_code == 422, change
        assert "konnte nicht gelesen werden" in response.get_data(as_text=True)
    assert web.post("/notifications/feedback", data={**form, **ANSWERS, "comment": "x" * 33000}).status_code == 413
    assert web.post("/notifications/feedback", json={**form, **ANSWERS}).status_code == 415
    [row] = rows()
    assert (row.rating, row.delivery_speed, row.comment) == (3, None, None) and row.form_nonce == form["n"]
    # A comment of exactly 2,000 characters in any script is fine.
    assert web.post("/notifications/feedback", data={**form, **ANSWERS, "comment": "漢" * 2000}).status_code == 200
    assert len(rows()[0].comment) == 2000


def test_the_page_speaks_the_links_language(web, order):
    url = links.feedback_url(order.shop_id, order.id, "ja")
    page = web.get(url[url.index("/notifications/feedback"):] + "&rating=5").get_data(as_text=True)
    assert '<html lang="ja">' in page and "配送スピード" in page and "アフターサービス" in page
