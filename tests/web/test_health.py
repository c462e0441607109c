from integration import create_app
from integration.extensions import db
from tests.conftest import make_config


def test_healthz_reports_components(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json
    assert body["status"] == "ok" and body["database"]["ok"] and body["redis"]["ok"]
    assert set(body["queues"]) == {"events", "sync", "notify", "low"}
    assert body["failed_jobs"] == 0 and body["workers"]["count"] == 0
    assert r.headers["X-Request-Id"]


def test_healthz_503_when_database_is_down(tmp_path, redis_url, redis_conn):
    app = create_app(make_config(tmp_path, "sqlite:///" + str(tmp_path / "missing" / "x.db"), redis_url))
    with app.app_context():
        r = app.test_client().get("/healthz")
        assert r.status_code == 503 and r.json["database"]["ok"] is False
        db.session.remove()


def test_healthz_503_when_redis_is_down(tmp_path, database_url):
    app = create_app(make_config(tmp_path, database_url, "redis://127.0.0.1:1/0"))
    with app.app_context():
        r = app.test_client().get("/healthz")
        assert r.status_code == 503 and r.json["redis"]["ok"] is False
        db.session.remove()


def test_metrics_exposes_latency_and_queues(client):
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'nearstock_http_request_duration_seconds_count{endpoint="/healthz"' in text
    assert 'nearstock_queue_depth{queue="events"}' in text
    assert 'nearstock_jobs{queue="events",status="failed"}' in text


def test_request_id_is_echoed_when_sane(client):
    assert client.get("/healthz", headers={"X-Request-Id": "abc12345-req"}).headers["X-Request-Id"] == "abc12345-req"
    assert client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"] != "<script>"


def test_errors_are_json_on_api_routes_and_html_elsewhere(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json == {"error": {"code": "not_found", "message": r.json["error"]["message"]}}
    r = client.get("/webhooks/shopify")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    r = client.get("/admin/nothing-here")
    assert r.status_code == 404 and r.mimetype == "text/html" and b"404" in r.data


def test_unexpected_errors_never_leak_a_trace(app, client):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    r = client.get("/api/boom")
    assert r.status_code == 500 and r.json["error"]["code"] == "internal_error"
    assert b"hunter2" not in r.data and b"Traceback" not in r.data
