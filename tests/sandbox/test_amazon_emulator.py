"""The Amazon emulator is strict: LWA, tokens, Host, rate limits, parameters, documents, seeding."""

from __future__ import annotations

import gzip
import json
import threading
import time
from datetime import timedelta

import pytest
import requests

from sandbox.amazon import AmazonEmulator, common
from sandbox.amazon.common import Limiter
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, FR, REFRESH_TOKEN, SELLER_ID, expect_invalid

SUMMARIES = "/fba/inventory/v1/summaries"
INVENTORY = {"granularityType": "Marketplace", "granularityId": DE, "marketplaceIds": DE}


def _token(emulator, **form):
    data = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, **form}
    return requests.post(emulator.token_url, data=data, timeout=5)


def _get(emulator, path, params=None, token=None, **headers):
    if token is None:
        token = _token(emulator).json()["access_token"]
    return requests.get(emulator.url + path, params=params, timeout=5,
                        headers={"x-amz-access-token": token, "User-Agent": "test/1.0", **headers})


def test_lwa_token_endpoint(amazon_emulator):
    good = _token(amazon_emulator)
    assert good.status_code == 200 and good.json()["token_type"] == "bearer" and good.json()["expires_in"] == 3600
    assert good.json()["access_token"].startswith("Atza|")
    assert _token(amazon_emulator, client_secret="nope").json()["error"] == "invalid_client"
    assert _token(amazon_emulator, client_secret="nope").status_code == 401
    assert _token(amazon_emulator, refresh_token="Atzr|unknown").json()["error"] == "invalid_grant"
    assert _token(amazon_emulator, grant_type="password").json()["error"] == "unsupported_grant_type"
    as_json = requests.post(amazon_emulator.token_url, json={"grant_type": "refresh_token"}, timeout=5)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    grantless = _token(amazon_emulator, grant_type="client_credentials", scope="sellingpartnerapi::notifications")
    assert grantless.json()["scope"] == "sellingpartnerapi::notifications"
    # A grantless token is not a seller's token.
    assert _get(amazon_emulator, SUMMARIES, INVENTORY, token=grantless.json()["access_token"]).status_code == 403


def test_api_calls_need_a_live_access_token(amazon_emulator):
    missing = _get(amazon_emulator, SUMMARIES, INVENTORY, token="")
    assert missing.status_code == 403
    assert missing.json()["errors"][0] == {"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                           "details": "Access token is missing in the request header."}
    assert _get(amazon_emulator, SUMMARIES, INVENTORY, token="Atza|forged").status_code == 403
    token = _token(amazon_emulator).json()["access_token"]
    assert _get(amazon_emulator, SUMMARIES, INVENTORY, token=token).status_code == 200
    amazon_emulator.advance(seconds=3601)
    expired = _get(amazon_emulator, SUMMARIES, INVENTORY, token=token)
    assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."
    assert expired.headers["x-amzn-RateLimit-Limit"] == "2.0" and expired.headers["x-amzn-RequestId"]
    expect_invalid(amazon_emulator)  # the request without a token


def test_host_and_user_agent_are_checked(amazon_emulator):
    assert _get(amazon_emulator, SUMMARIES, INVENTORY, Host="sellingpartnerapi-eu.amazon.com").status_code == 400
    assert _get(amazon_emulator, SUMMARIES, INVENTORY, **{"User-Agent": ""}).status_code == 400
    expect_invalid(amazon_emulator)


def test_parameters_are_strict(amazon_emulator_factory):
    amazon_emulator = amazon_emulator_factory(rate_scale=10_000.0)  # these raw requests do not pace
    token = _token(amazon_emulator).json()["access_token"]
    repeated = _get(amazon_emulator, SUMMARIES + "?granularityType=Marketplace&granularityId=" + DE +
                    f"&marketplaceIds={DE}&sellerSkus=A&sellerSkus=B", token=token)
    assert repeated.status_code == 400 and "repeated" in repeated.json()["errors"][0]["message"]
    stray = _get(amazon_emulator, SUMMARIES, {**INVENTORY, "MarketplaceId": DE}, token=token)
    assert stray.status_code == 400 and "Unknown parameter" in stray.json()["errors"][0]["message"]
    two = _get(amazon_emulator, SUMMARIES, {**INVENTORY, "marketplaceIds": f"{DE},{FR}"}, token=token)
    assert two.status_code == 400
    both = _get(amazon_emulator, "/orders/2026-01-01/orders", {
        "createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"}, token=token)
    assert both.status_code == 400
    recent = amazon_emulator.now() - timedelta(seconds=30)
    too_fresh = _get(amazon_emulator, "/orders/2026-01-01/orders", {
        "lastUpdatedAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": recent.strftime("%Y-%m-%dT%H:%M:%SZ")},
        token=token)
    assert too_fresh.status_code == 400 and "two minutes" in too_fresh.json()["errors"][0]["details"]
    expect_invalid(amazon_emulator)


def test_pagination_tokens_continue_only_their_own_query(amazon_emulator_factory):
    emulator = amazon_emulator_factory(orders=30)
    token = _token(emulator).json()["access_token"]
    query = {"createdAfter": "2020-01-01T00:00:00Z", "maxResultsPerPage": 2}
    first = _get(emulator, "/orders/2026-01-01/orders", query, token=token).json()
    assert len(first["orders"]) == 2 and first["pagination"]["nextToken"]
    changed = {**query, "createdAfter": "2021-01-01T00:00:00Z", "paginationToken": first["pagination"]["nextToken"]}
    assert _get(emulator, "/orders/2026-01-01/orders", changed, token=token).status_code == 400
    same = {**query, "maxResultsPerPage": 5, "paginationToken": first["pagination"]["nextToken"]}
    second = _get(emulator, "/orders/2026-01-01/orders", same, token=token).json()
    assert not {o["orderId"] for o in first["orders"]} & {o["orderId"] for o in second["orders"]}


def test_quota_exceeded_is_amazons_answer_and_a_violation(amazon_emulator):
    token = _token(amazon_emulator).json()["access_token"]
    answers = [_get(amazon_emulator, SUMMARIES, INVENTORY, token=token) for _ in range(3)]  # burst 2
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json() == {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the "
                                             "requested resource.", "details": ""}]}
    assert answers[2].headers["x-amzn-RateLimit-Limit"] == "2.0"
    assert amazon_emulator.violations == 1
    assert amazon_emulator.limiter.violations_by_operation == {"fbaInventory.getInventorySummaries": 1}


def test_a_handler_preempted_before_the_bucket_does_not_turn_its_clock_back(monkeypatch):
    """Two requests into a full bucket (500/s, burst 5) are no violation, even when the first
    request's handler loses the CPU right after reading the clock and the second is served first."""
    limiter = Limiter({"op": (500.0, 5)})
    read, served = threading.Event(), threading.Event()

    class PreemptedClock:
        @staticmethod
        def monotonic():
            now = time.monotonic()
            if threading.current_thread().name == "preempted" and not read.is_set():
                read.set()
                served.wait(0.2)  # descheduled: the other handler runs meanwhile
            return now

    monkeypatch.setattr(common, "time", PreemptedClock)
    results = []
    first = threading.Thread(target=lambda: results.append(limiter.take("op")), name="preempted")
    first.start()
    read.wait(1)
    time.sleep(0.02)  # 20 ms = 10 tokens at 500/s
    results.append(limiter.take("op"))
    served.set()
    first.join(1)
    assert results == [True, True] and limiter.violations == 0


def test_a_new_emulator_on_a_freed_port_gets_no_stale_access_token(amazon_emulator_factory, amazon_client_factory):
    """The OS hands a freed port out again: tokens the old emulator issued must not reach the new one."""
    old = amazon_emulator_factory()
    amazon_client_factory(old).call("fbaInventory.getInventorySummaries", params=INVENTORY)
    url = old.url
    old.stop()
    new = amazon_emulator_factory(port=int(url.rsplit(":", 1)[1]))
    assert new.url == url
    amazon_client_factory(new).call("fbaInventory.getInventorySummaries", params=INVENTORY)
    assert [e.status for e in new.exchanges if e.operation] == [200]


def test_injected_faults(amazon_emulator):
    amazon_emulator.faults.set(1.0, ("503",))
    answer = _get(amazon_emulator, SUMMARIES, INVENTORY)
    assert answer.status_code == 503 and answer.json()["errors"][0]["code"] == "ServiceUnavailable"
    assert amazon_emulator.violations == 0


def test_presigned_document_urls(amazon_emulator):
    token = _token(amazon_emulator).json()["access_token"]
    headers = {"x-amz-access-token": token, "User-Agent": "test/1.0"}
    created = requests.post(amazon_emulator.url + "/feeds/2021-06-30/documents", timeout=5, headers=headers,
                            json={"contentType": "application/json; charset=UTF-8"}).json()
    wrong_type = requests.put(created["url"], data=b"{}", headers={"Content-Type": "text/plain"}, timeout=5)
    assert wrong_type.status_code == 403 and b"SignatureDoesNotMatch" in wrong_type.content
    amazon_emulator.advance(minutes=6)
    late = requests.put(created["url"], data=b"{}", headers={"Content-Type": "application/json; charset=UTF-8"},
                        timeout=5)
    assert late.status_code == 403 and b"expired" in late.content


def test_an_unreadable_feed_is_fatal_with_a_report(amazon_emulator):
    amazon_emulator.queue_seconds = amazon_emulator.process_seconds = 0.0
    token = _token(amazon_emulator).json()["access_token"]
    headers = {"x-amz-access-token": token, "User-Agent": "test/1.0"}
    base = amazon_emulator.url + "/feeds/2021-06-30"
    created = requests.post(base + "/documents", json={"contentType": "application/json"}, headers=headers,
                            timeout=5).json()
    requests.put(created["url"], data=b"not json", headers={"Content-Type": "application/json"}, timeout=5)
    feed = requests.post(base + "/feeds", headers=headers, timeout=5, json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [DE], "inputFeedDocumentId": created["feedDocumentId"]})
    assert feed.status_code == 202
    status = requests.get(f"{base}/feeds/{feed.json()['feedId']}", headers=headers, timeout=5).json()
    assert status["processingStatus"] == "FATAL"
    document = requests.get(f"{base}/documents/{status['resultFeedDocumentId']}", headers=headers, timeout=5).json()
    assert document["compressionAlgorithm"] == "GZIP"
    report = json.loads(gzip.decompress(requests.get(document["url"], timeout=5).content))
    assert report["header"] == {"sellerId": SELLER_ID, "version": "2.0", "feedId": feed.json()["feedId"]}
    assert report["issues"][0]["severity"] == "ERROR" and report["summary"]["messagesProcessed"] == 0


def test_seeding_is_deterministic():
    def snapshot(seed):
        emulator = AmazonEmulator(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, marketplaces=[DE, FR], seed=seed, orders=25)
        return sorted((o.order_id, o.status, o.fulfilled_by, o.marketplace_id) for o in emulator.state.orders.values())

    assert snapshot(3) == snapshot(3) != snapshot(4)
    emulator = AmazonEmulator(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, marketplaces=[DE], seed=5, orders=60)
    kinds = {(o.fulfilled_by, o.status) for o in emulator.state.orders.values()}
    assert ("MERCHANT", "UNSHIPPED") in kinds and any(by == "AMAZON" for by, _ in kinds)
    assert len(emulator.state.listings) == 8 and len(emulator.state.stock) == 8


def test_unknown_marketplace_is_refused():
    with pytest.raises(ValueError):
        AmazonEmulator(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, marketplaces=["XX"])


def test_the_model_validator_catches_bad_requests(amazon_models, amazon_emulator):
    token = _token(amazon_emulator).json()["access_token"]
    _get(amazon_emulator, SUMMARIES + f"?granularityType=Marketplace&granularityId={DE}&marketplaceIds={DE}"
         "&details=yes", token=token)
    problems = amazon_models.problems(amazon_emulator.exchanges)
    assert any("details" in p for p in problems)
    expect_invalid(amazon_emulator)
