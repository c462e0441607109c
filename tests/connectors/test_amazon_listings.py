"""MFN quantities: patchListingsItem and JSON_LISTINGS_FEED (document, feed, report, per-SKU errors)."""

from __future__ import annotations

import gzip
import json

import pytest

from connectors.amazon import listings
from connectors.amazon.listings import FeedSubmission
from connectors.errors import PermanentError
from tests.amazon_fixtures import DE, SELLER_ID, json_schema_problems


def test_patch_sets_the_quantity_in_the_emulator(amazon_emulator, amazon_client):
    result = listings.set_quantity(amazon_client, "NS-0001", 17)
    assert result.accepted and result.issues == ()
    assert amazon_emulator.state.listing_quantity("NS-0001", DE) == 17
    exchange = amazon_emulator.exchanges_for("listings.patchListingsItem")[0]
    assert exchange.path == f"/listings/2021-08-01/items/{SELLER_ID}/NS-0001"
    assert json.loads(exchange.body) == {"productType": "PRODUCT", "patches": [{
        "op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 17}]}]}


def test_patch_of_a_sku_with_a_slash_reaches_the_right_listing(amazon_emulator, amazon_client):
    amazon_emulator.state.add_listing("BOX/12", 0, marketplace_id=DE)
    assert listings.set_quantity(amazon_client, "BOX/12", 4).accepted
    assert amazon_emulator.state.listing_quantity("BOX/12", DE) == 4


def test_patch_of_an_unknown_sku_is_invalid_with_an_issue(amazon_emulator, amazon_client):
    result = listings.set_quantity(amazon_client, "NOPE-1", 3)
    assert result.status == "INVALID" and result.issues[0].severity == "ERROR"


def test_negative_quantity_is_refused_before_calling(amazon_emulator, amazon_client):
    with pytest.raises(PermanentError):
        listings.set_quantity(amazon_client, "NS-0001", -1)
    assert amazon_emulator.exchanges_for("listings.patchListingsItem") == []


def test_feed_round_trip_with_per_sku_errors(amazon_emulator, amazon_client):
    amazon_emulator.queue_seconds = amazon_emulator.process_seconds = 0.0
    quantities = {f"NS-000{i}": i * 3 for i in range(1, 8)} | {"GHOST-1": 5, "GHOST-2": 6}
    submission = listings.submit_quantity_feed(amazon_client, quantities)
    assert len(submission.skus) == 9 and FeedSubmission.from_dict(submission.as_dict()) == submission
    result = listings.wait_for_feed(amazon_client, submission, poll_every=0.05, timeout=10)
    assert result.status == "DONE" and result.processed == 9 and result.accepted == 7 and result.invalid == 2
    assert set(result.errors) == {"GHOST-1", "GHOST-2"} and not result.ok
    for i in range(1, 8):
        assert amazon_emulator.state.listing_quantity(f"NS-000{i}", DE) == i * 3
    upload = next(e for e in amazon_emulator.exchanges if e.path.startswith("/_documents/") and e.method == "PUT")
    assert upload.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert "x-amz-access-token" not in {k.lower() for k in upload.headers}


def test_feed_status_is_none_while_processing(amazon_emulator, amazon_client):
    amazon_emulator.queue_seconds, amazon_emulator.process_seconds = 60.0, 60.0
    submission = listings.submit_quantity_feed(amazon_client, {"NS-0001": 1})
    assert listings.feed_result(amazon_client, submission) is None
    amazon_emulator.advance(minutes=3)
    assert listings.feed_result(amazon_client, submission).ok
    assert amazon_emulator.state.listing_quantity("NS-0001", DE) == 1


def test_feed_documents_follow_the_published_schemas(amazon_models, amazon_emulator, amazon_client):
    amazon_emulator.queue_seconds = amazon_emulator.process_seconds = 0.0
    submission = listings.submit_quantity_feed(amazon_client, {"NS-0001": 2, "GHOST": 1})
    listings.wait_for_feed(amazon_client, submission, poll_every=0.05, timeout=10)
    upload = next(e for e in amazon_emulator.exchanges if e.path.startswith("/_documents/") and e.method == "PUT")
    assert json_schema_problems("listings-feed-schema-v2.json", json.loads(upload.body)) == []
    report = next(e for e in amazon_emulator.exchanges if e.path.startswith("/_documents/") and e.method == "GET")
    document = json.loads(gzip.decompress(report.response_body))
    assert json_schema_problems("listings-feed-processing-report-schema-v2.json", document) == []
    assert document["issues"][0]["messageId"] == 2


def test_feeds_hold_at_most_25000_messages(amazon_emulator, amazon_client):
    with pytest.raises(PermanentError):
        listings.build_quantity_feed(SELLER_ID, [(f"S{i}", 1) for i in range(25_001)])
    document, skus = listings.build_quantity_feed(SELLER_ID, [(f"S{i}", 1) for i in range(25_000)])
    assert len(document["messages"]) == 25_000 and skus[-1] == "S24999"
    amazon_emulator.queue_seconds = amazon_emulator.process_seconds = 0.0
    submissions = listings.submit_quantity_feeds(amazon_client, {f"S{i}": 1 for i in range(25_003)})
    assert [len(s.skus) for s in submissions] == [25_000, 3]
    result = listings.wait_for_feed(amazon_client, submissions[1], poll_every=0.05, timeout=10)
    assert set(result.errors) == {"S25000", "S25001", "S25002"}  # no listings for these SKUs


def test_processing_report_issues_without_message_are_feed_issues():
    submission = FeedSubmission("1", "d", ("A", "B"))
    result = listings.parse_processing_report({
        "issues": [{"severity": "ERROR", "message": "bad header"}, {"messageId": 2, "severity": "WARNING",
                                                                   "message": "w", "code": "9"}],
        "summary": {"messagesProcessed": 2, "messagesAccepted": 2, "messagesInvalid": 0}}, submission)
    assert result.feed_issues[0].message == "bad header" and result.warnings["B"][0].code == "9" and not result.ok
