"""Feeds API 2021-06-30 with ``JSON_LISTINGS_FEED`` processing, and the presigned document URLs.

Documents: ``createFeedDocument`` answers a URL on this emulator (``/_documents/<id>``) signed
for five minutes (emulator clock) and for the requested ``Content-Type``, which the PUT must repeat
(as S3 checks a presigned PUT). Feeds move IN_QUEUE -> IN_PROGRESS -> DONE (or FATAL for an
unreadable document) as the clock passes ``queue_seconds`` and ``process_seconds``; the processing
report (listings-feed-processing-report-schema-v2) is stored GZIP-compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

from werkzeug.wrappers import Request, Response

from .common import ApiError, Context, invalid, iso
from .listings_api import apply_patches, check_patches, issue
from .state import Document, Feed, SellerState

FEED_TYPES = ("JSON_LISTINGS_FEED",)
URL_TTL = timedelta(minutes=5)
MAX_MESSAGES = 25_000
OPERATION_TYPES = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")


def _signature(secret: bytes, document_id: str, expires: str, content_type: str) -> str:
    return hmac.new(secret, f"{document_id}\n{expires}\n{content_type}".encode(), hashlib.sha256).hexdigest()


def presigned_url(state: SellerState, ctx_base: str, secret: bytes, document: Document) -> str:
    expires = str(int((state.clock.now() + URL_TTL).timestamp()))
    signature = _signature(secret, document.document_id, expires, document.content_type)
    return f"{ctx_base}/_documents/{document.document_id}?X-Amz-Expires={expires}&X-Amz-Signature={signature}"


def create_feed_document(state: SellerState, ctx: Context, secret: bytes) -> tuple[int, dict]:
    ctx.allow()
    body = ctx.json_body()
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type.strip():
        raise invalid("Invalid input", "contentType is required")
    document = Document(str(uuid.uuid4()), content_type, ctx.now)
    state.documents[document.document_id] = document
    return 201, {"feedDocumentId": document.document_id, "url": presigned_url(state, ctx.base_url, secret, document)}


def document_http(state: SellerState, request: Request, document_id: str, secret: bytes) -> Response:
    """The presigned URL: PUT uploads an input document, GET downloads a document."""
    document = state.documents.get(document_id)
    expires = request.args.get("X-Amz-Expires", "")
    if document is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    content_type = request.headers.get("Content-Type", "") if request.method == "PUT" else document.content_type
    expected = _signature(secret, document_id, expires, content_type)
    if not hmac.compare_digest(expected, request.args.get("X-Amz-Signature", "")):
        return _s3_error(403, "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature you provided.")
    if not expires.isdigit() or int(expires) < state.clock.now().timestamp():
        return _s3_error(403, "AccessDenied", "Request has expired")
    if request.method == "PUT":
        document.content = request.get_data()
        return Response(status=200)
    if request.method == "GET" and document.content is not None:
        return Response(document.content, status=200, mimetype=document.content_type)
    return _s3_error(405 if request.method not in ("GET", "PUT") else 404, "NoSuchKey", "No content")


def _s3_error(status: int, code: str, message: str) -> Response:
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(xml, status=status, mimetype="application/xml")


def create_feed(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow()
    body = ctx.json_body()
    for key in ("feedType", "marketplaceIds", "inputFeedDocumentId"):
        if not body.get(key):
            raise invalid("Invalid input", f"{key} is required")
    if body["feedType"] not in FEED_TYPES:
        raise invalid("Invalid input", f"The emulator processes {', '.join(FEED_TYPES)} only")
    marketplaces = body["marketplaceIds"]
    if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25 or any(
            m not in state.marketplaces for m in marketplaces):
        raise invalid("Invalid input", "marketplaceIds must list 1-25 of the seller's marketplaces")
    document = state.documents.get(body["inputFeedDocumentId"])
    if document is None or document.content is None:
        raise invalid("Invalid input", "inputFeedDocumentId is unknown or was never uploaded")
    feed = Feed(str(50000 + state.next_id()), body["feedType"], list(marketplaces), document.document_id, ctx.now)
    state.feeds[feed.feed_id] = feed
    return 202, {"feedId": feed.feed_id}


def _feed(state: SellerState, feed_id: str) -> Feed:
    feed = state.feeds.get(feed_id)
    if feed is None:
        raise ApiError(404, "NotFound", "The feed does not exist.", f"feedId {feed_id}")
    return feed


def get_feed(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow()
    feed = _feed(state, ctx.path["feedId"])
    out = {"feedId": feed.feed_id, "feedType": feed.feed_type, "marketplaceIds": feed.marketplace_ids,
           "createdTime": iso(feed.created), "processingStatus": feed.status}
    if feed.started:
        out["processingStartTime"] = iso(feed.started)
    if feed.ended:
        out["processingEndTime"] = iso(feed.ended)
    if feed.result_document_id:
        out["resultFeedDocumentId"] = feed.result_document_id
    return 200, out


def get_feed_document(state: SellerState, ctx: Context, secret: bytes) -> tuple[int, dict]:
    ctx.allow("enableContentEncodingUrlHeader")
    document = state.documents.get(ctx.path["feedDocumentId"])
    if document is None:
        raise ApiError(404, "NotFound", "The feed document does not exist.")
    out = {"feedDocumentId": document.document_id, "url": presigned_url(state, ctx.base_url, secret, document)}
    if document.compression:
        out["compressionAlgorithm"] = document.compression
    return 200, out


def advance_feeds(state: SellerState, queue_seconds: float, process_seconds: float) -> None:
    now = state.clock.now()
    for feed in state.feeds.values():
        if feed.status == "IN_QUEUE" and feed.created + timedelta(seconds=queue_seconds) <= now:
            feed.status, feed.started = "IN_PROGRESS", feed.created + timedelta(seconds=queue_seconds)
        if feed.status == "IN_PROGRESS" and feed.started + timedelta(seconds=process_seconds) <= now:
            _process(state, feed)


def _process(state: SellerState, feed: Feed) -> None:
    issues: list[dict] = []
    accepted = invalid_count = 0
    try:
        data = json.loads(state.documents[feed.input_document_id].content.decode("utf-8"))
        header, messages = data.get("header") or {}, data.get("messages")
        if header.get("sellerId") != state.seller_id or header.get("version") != "2.0":
            raise ValueError("header.sellerId must be the seller's and header.version 2.0")
        if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
            raise ValueError(f"messages must hold 1 to {MAX_MESSAGES} entries")
    except (ValueError, AttributeError, UnicodeDecodeError) as exc:
        feed.status = "FATAL"
        issues.append({"code": "100001", "severity": "ERROR", "message": f"Feed rejected: {exc}"})
        messages = []
    seen: set[int] = set()
    for message in messages:
        found = _message_issues(state, feed, message, seen)
        for entry in found:
            entry = {"messageId": message.get("messageId"), "sku": message.get("sku"), **entry}
            entry.pop("categories", None)  # not part of the processing report's issue
            names = entry.pop("attributeNames", None)
            if names:
                entry["attributeName"] = names[0]
            issues.append({k: v for k, v in entry.items() if v is not None})
        if any(i["severity"] == "ERROR" for i in found):
            invalid_count += 1
        else:
            accepted += 1
    report = {"header": {"sellerId": state.seller_id, "version": "2.0", "feedId": feed.feed_id}, "issues": issues,
              "summary": {"errors": sum(i["severity"] == "ERROR" for i in issues),
                          "warnings": sum(i["severity"] == "WARNING" for i in issues),
                          "messagesProcessed": len(messages), "messagesAccepted": accepted,
                          "messagesInvalid": invalid_count}}
    document = Document(str(uuid.uuid4()), "application/json", state.clock.now(),
                        gzip.compress(json.dumps(report).encode("utf-8")), "GZIP")
    state.documents[document.document_id] = document
    feed.result_document_id, feed.ended = document.document_id, state.clock.now()
    if feed.status != "FATAL":
        feed.status = "DONE"


def _message_issues(state: SellerState, feed: Feed, message, seen: set[int]) -> list[dict]:
    if not isinstance(message, dict):
        return [issue("4000002", "Each message must be an object.")]
    message_id, sku, kind = message.get("messageId"), message.get("sku"), message.get("operationType")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1 or message_id in seen:
        return [issue("4000002", "messageId must be a unique positive integer.")]
    seen.add(message_id)
    if not isinstance(sku, str) or not sku or kind not in OPERATION_TYPES:
        return [issue("4000002", "sku and operationType (UPDATE, PARTIAL_UPDATE, PATCH, DELETE) are required.")]
    if kind == "DELETE":
        for marketplace_id in feed.marketplace_ids:
            state.listings.pop((sku, marketplace_id), None)
        return []
    product_type = message.get("productType")
    if not isinstance(product_type, str) or not product_type:
        return [issue("4000002", f"{kind} messages require productType.")]
    if kind == "PATCH":
        patches = message.get("patches")
    else:
        attributes = message.get("attributes")
        if not isinstance(attributes, dict) or not attributes:
            return [issue("4000002", f"{kind} messages require attributes.")]
        patches = [{"op": "replace", "path": f"/attributes/{name}", "value": value}
                   for name, value in attributes.items()]
    try:
        check_patches(patches)
    except ApiError as exc:
        return [issue("4000002", exc.details or exc.message)]
    found: list[dict] = []
    for marketplace_id in feed.marketplace_ids:
        found.extend(apply_patches(state, sku, marketplace_id, product_type, patches))
    return found
