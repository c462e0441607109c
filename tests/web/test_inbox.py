"""The inbound-event path through the Shopify webhook endpoint."""

import json

import pytest
from sqlalchemy import func, select

from integration import create_app
from integration.extensions import db, queues
from integration.job_catalog import process_event_id
from integration.models import EventStatus, WebhookEvent
from tests.conftest import make_config
from tests.helpers import shopify_webhook


def events():
    return db.session.execute(select(WebhookEvent)).scalars().all()


def queued_ids():
    return queues["events"].get_job_ids()


def test_valid_webhook_is_stored_and_enqueued_once(client):
    r = shopify_webhook(client, "orders/create", {"id": 1}, webhook_id="w-1")
    assert r.status_code == 200 and r.json == {"ok": True, "duplicate": False}
    [event] = events()
    assert (event.source, event.delivery_id, event.topic) == ("shopify", "w-1", "orders/create")
    assert event.shop_domain == "acme.myshopify.com" and json.loads(event.body) == {"id": 1}
    assert event.status == EventStatus.RECEIVED
    assert queued_ids() == [process_event_id(event.id)]


def test_duplicate_delivery_is_acknowledged_without_new_work(client):
    for _ in range(3):
        r = shopify_webhook(client, "orders/create", {"id": 1}, webhook_id="w-dup")
        assert r.status_code == 200
    assert r.json["duplicate"] is True
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    assert len(queued_ids()) == 1


def test_duplicate_of_processed_event_enqueues_nothing(client, worker):
    shopify_webhook(client, "unhandled/topic", {"id": 1}, webhook_id="w-done")
    worker.run()
    assert events()[0].status == EventStatus.IGNORED  # no handler for this topic
    shopify_webhook(client, "unhandled/topic", {"id": 1}, webhook_id="w-done")
    assert queued_ids() == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"X-Shopify-Hmac-Sha256": "AAAA"}, 401, "invalid_hmac"),
        ({"X-Shopify-Hmac-Sha256": ""}, 401, "invalid_hmac"),
        ({"X-Shopify-Topic": ""}, 400, "missing_headers"),
        ({"X-Shopify-Webhook-Id": ""}, 400, "missing_headers"),
        ({"X-Shopify-Shop-Domain": "evil.com"}, 400, "invalid_shop"),
        ({"X-Shopify-Shop-Domain": "x.myshopify.com.evil.com"}, 400, "invalid_shop"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(client, change, status, code):
    r = shopify_webhook(client, "orders/create", {"id": 1}, headers=change)
    assert r.status_code == status
    assert r.json["error"]["code"] == code and r.json["error"]["message"]
    assert events() == [] and queued_ids() == []


def test_hmac_signed_with_another_secret_is_refused(client):
    r = shopify_webhook(client, "orders/create", {"id": 1}, secret="not-the-secret")
    assert r.status_code == 401 and events() == []


def test_previous_secret_is_accepted_during_rotation(tmp_path, database_url, redis_url, redis_conn):
    app = create_app(make_config(tmp_path, database_url, redis_url, SHOPIFY_API_SECRET="new",
                                 SHOPIFY_API_SECRET_PREVIOUS="test-api-secret"))
    with app.app_context():
        assert shopify_webhook(app.test_client(), "orders/create", {"id": 1}).status_code == 200
        assert shopify_webhook(app.test_client(), "orders/create", {"id": 1}, secret="new").status_code == 200
        assert shopify_webhook(app.test_client(), "orders/create", {"id": 1}, secret="old").status_code == 401
        db.session.remove()


def test_oversized_body_is_413(client):
    r = shopify_webhook(client, "orders/create", b"x" * (2 * 1024 * 1024 + 1))
    assert r.status_code == 413 and r.json["error"]["code"] == "payload_too_large"
    assert events() == []


def test_database_down_answers_503_so_shopify_retries(tmp_path, redis_url, redis_conn):
    down = "sqlite:///" + str(tmp_path / "no" / "such" / "dir" / "db.sqlite3")
    app = create_app(make_config(tmp_path, down, redis_url))
    with app.app_context():
        r = shopify_webhook(app.test_client(), "orders/create", {"id": 1})
        assert r.status_code == 503 and r.json["error"]["code"] == "unavailable"
        assert queued_ids() == []
        db.session.remove()


def test_redis_down_answers_503_and_the_retry_enqueues(tmp_path, database_url, redis_url, redis_conn):
    app = create_app(make_config(tmp_path, database_url, "redis://127.0.0.1:1/0"))
    with app.app_context():
        r = shopify_webhook(app.test_client(), "orders/create", {"id": 7}, webhook_id="w-redis")
        assert r.status_code == 503
        [event] = events()  # stored, not yet enqueued
        db.session.remove()
    # Shopify retries once Redis is back: the stored event is enqueued exactly once.
    app = create_app(make_config(tmp_path, database_url, redis_url))
    with app.app_context():
        client = app.test_client()
        assert shopify_webhook(client, "orders/create", {"id": 7}, webhook_id="w-redis").status_code == 200
        assert shopify_webhook(client, "orders/create", {"id": 7}, webhook_id="w-redis").status_code == 200
        assert queued_ids() == [process_event_id(event.id)]
        db.session.remove()
