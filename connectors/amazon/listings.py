"""Merchant-fulfilled (MFN) offer quantities: one SKU by ``patchListingsItem``, many by a feed.

* One SKU: ``PATCH /listings/2021-08-01/items/{sellerId}/{sku}`` replacing
  ``/attributes/fulfillment_availability`` with ``fulfillment_channel_code: DEFAULT`` (the MFN
  channel; FBA quantities belong to Amazon). 5 requests/s, burst 5.
* Many SKUs: a ``JSON_LISTINGS_FEED`` of the same PATCH messages (at most 25,000 per feed, the
  schema's ``maxItems``): ``createFeedDocument`` -> PUT the JSON to the presigned URL (with the
  same ``Content-Type``) -> ``createFeed`` -> poll ``getFeed`` until DONE/FATAL/CANCELLED ->
  ``getFeedDocument`` of ``resultFeedDocumentId`` -> download (GZIP when ``compressionAlgorithm``
  says so) -> the processing report, whose issues name a ``messageId`` we map back to the SKU.
  ``createFeed`` allows one feed per ~2 minutes (0.0083/s, burst 15), so callers batch.
  https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide

``productType`` is required in both shapes; ``PRODUCT`` is Amazon's generic type for offer-only
updates of an existing item, callers that know the item's real type may pass it.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from connectors.errors import PermanentError, RetryableError
from integration.domain.channels import FeedResult, FeedSubmission, SkuIssue

from .client import SpApiClient

MAX_FEED_MESSAGES = 25_000
FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
AVAILABILITY_PATH = "/attributes/fulfillment_availability"
DEFAULT_PRODUCT_TYPE = "PRODUCT"
FINISHED = frozenset({"DONE", "FATAL", "CANCELLED"})


@dataclass(frozen=True)
class ListingResult:
    sku: str
    status: str  # ACCEPTED, INVALID (VALID only in validation preview)
    submission_id: str
    issues: tuple[SkuIssue, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status == "ACCEPTED"


def availability_patch(quantity: int) -> dict:
    if quantity < 0:
        raise PermanentError(f"negative quantity {quantity}", field="quantity", code="bad_quantity", system="amazon")
    return {"op": "replace", "path": AVAILABILITY_PATH,
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": int(quantity)}]}


def set_quantity(client: SpApiClient, sku: str, quantity: int, *,
                 product_type: str = DEFAULT_PRODUCT_TYPE) -> ListingResult:
    """Set the MFN quantity of one SKU in the client's marketplace."""
    reply = client.call(
        "listings.patchListingsItem", path={"sellerId": client.selling_partner_id, "sku": sku}, external_id=sku,
        params={"marketplaceIds": [client.marketplace_id], "includedData": ["issues"]},
        body={"productType": product_type, "patches": [availability_patch(quantity)]})
    body = reply.body
    issues = tuple(SkuIssue(sku, i.get("code"), i.get("message") or "", i.get("severity") or "ERROR",
                            (i.get("attributeNames") or [None])[0]) for i in body.get("issues") or [])
    return ListingResult(sku=body.get("sku", sku), status=body["status"], submission_id=body["submissionId"],
                         issues=issues)


def build_quantity_feed(seller_id: str, quantities: Iterable[tuple[str, int]], *,
                        product_type: str = DEFAULT_PRODUCT_TYPE) -> tuple[dict, tuple[str, ...]]:
    """The JSON_LISTINGS_FEED document (listings-feed-schema-v2) and the SKU of each message."""
    messages, skus = [], []
    for sku, quantity in quantities:
        skus.append(sku)
        messages.append({"messageId": len(skus), "sku": sku, "operationType": "PATCH", "productType": product_type,
                         "patches": [availability_patch(quantity)]})
    if not messages:
        raise PermanentError("empty feed", code="empty_feed", system="amazon")
    if len(messages) > MAX_FEED_MESSAGES:
        raise PermanentError(f"{len(messages)} messages: a feed holds at most {MAX_FEED_MESSAGES}",
                             code="feed_too_large", system="amazon")
    return {"header": {"sellerId": seller_id, "version": "2.0"}, "messages": messages}, tuple(skus)


def submit_quantity_feed(client: SpApiClient, quantities: Mapping[str, int] | Iterable[tuple[str, int]], *,
                         product_type: str = DEFAULT_PRODUCT_TYPE) -> FeedSubmission:
    """Upload and submit one feed of at most 25,000 quantity updates."""
    pairs = quantities.items() if isinstance(quantities, Mapping) else quantities
    document, skus = build_quantity_feed(client.selling_partner_id, pairs, product_type=product_type)
    created = client.call("feeds.createFeedDocument", body={"contentType": FEED_CONTENT_TYPE}).body
    client.upload(created["url"], json.dumps(document, ensure_ascii=False).encode("utf-8"), FEED_CONTENT_TYPE)
    feed = client.call("feeds.createFeed", body={
        "feedType": FEED_TYPE, "marketplaceIds": [client.marketplace_id],
        "inputFeedDocumentId": created["feedDocumentId"]}).body
    return FeedSubmission(feed_id=str(feed["feedId"]), document_id=created["feedDocumentId"], skus=skus)


def submit_quantity_feeds(client: SpApiClient, quantities: Mapping[str, int]) -> list[FeedSubmission]:
    """As many feeds as 25,000-message chunks of ``quantities`` need."""
    pairs = list(quantities.items())
    return [submit_quantity_feed(client, pairs[i:i + MAX_FEED_MESSAGES])
            for i in range(0, len(pairs), MAX_FEED_MESSAGES)]


def feed_result(client: SpApiClient, submission: FeedSubmission) -> FeedResult | None:
    """The result once the feed finished processing, else None (ask again later)."""
    feed = client.call("feeds.getFeed", path={"feedId": submission.feed_id}).body
    status = feed["processingStatus"]
    if status not in FINISHED:
        return None
    if not feed.get("resultFeedDocumentId"):
        return FeedResult(submission.feed_id, status)
    document = client.call("feeds.getFeedDocument", path={"feedDocumentId": feed["resultFeedDocumentId"]}).body
    content = client.download(document["url"])
    if document.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    try:
        report = json.loads(content.decode("utf-8"))
    except ValueError as exc:
        raise PermanentError("unreadable feed processing report", code="bad_report", system="amazon",
                             operation="getFeedDocument") from exc
    return parse_processing_report(report, submission, status=status)


def wait_for_feed(client: SpApiClient, submission: FeedSubmission, *, timeout: float = 900.0,
                  poll_every: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> FeedResult:
    """Poll :func:`feed_result` until the feed finishes; RetryableError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = feed_result(client, submission)
        if result is not None:
            return result
        if time.monotonic() + poll_every > deadline:
            raise RetryableError(f"feed {submission.feed_id} still processing", retry_after=poll_every,
                                 system="amazon", operation="getFeed")
        sleep(poll_every)


def parse_processing_report(report: Mapping, submission: FeedSubmission, *, status: str = "DONE") -> FeedResult:
    """Per-SKU errors and warnings of a JSON listings feed processing report (schema v2)."""
    errors: dict[str, list[SkuIssue]] = {}
    warnings: dict[str, list[SkuIssue]] = {}
    general: list[SkuIssue] = []
    for raw in report.get("issues") or []:
        message_id = raw.get("messageId")
        sku = raw.get("sku")
        if sku is None and isinstance(message_id, int) and 1 <= message_id <= len(submission.skus):
            sku = submission.skus[message_id - 1]
        issue = SkuIssue(sku, raw.get("code"), raw.get("message") or "", raw.get("severity") or "ERROR",
                         raw.get("attributeName"))
        if sku is None:
            general.append(issue)
        elif issue.severity == "ERROR":
            errors.setdefault(sku, []).append(issue)
        elif issue.severity == "WARNING":
            warnings.setdefault(sku, []).append(issue)
    summary = report.get("summary") or {}
    return FeedResult(
        feed_id=submission.feed_id, status=status, processed=int(summary.get("messagesProcessed") or 0),
        accepted=int(summary.get("messagesAccepted") or 0), invalid=int(summary.get("messagesInvalid") or 0),
        errors={k: tuple(v) for k, v in errors.items()}, warnings={k: tuple(v) for k, v in warnings.items()},
        feed_issues=tuple(general))
