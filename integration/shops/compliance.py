"""Shopify's mandatory privacy topics: a customer's data export, a customer's erasure, a shop's
erasure. https://shopify.dev/docs/apps/build/privacy-law-compliance

Which data is personal is declared on the models (see :mod:`integration.models.pii`): every model
with ``__customer_match__`` is found by walking the SQLAlchemy registry, so a table added later
is exported and erased without touching this module. Its rows are matched within the shop by the
match columns: a column whose name contains ``email`` against the customer's email (case
insensitive), any other against the customer's gid; Orders also by the order gids of the request.

Shop-scoped Redis keys follow the convention ``nearstock:shop:<domain>:<what>`` (build them with
:func:`integration.shops.installation.redis_key`); ``shop/redact`` deletes them by that prefix, and
also any key that names the domain as a whole ``:``-separated segment or as a Redis Cluster hash
tag (``shopify:throttle:{<domain>}:bucket``), which is how older modules spell it.

Raw webhook bodies in the inbox copy personal data too: erasures rewrite the bodies that mention
the customer (or the shop) to :data:`REDACTED_BODY`, which handlers recognise and skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Table, and_, delete, func, inspect, or_, select, update

from connectors.untrusted_input import UntrustedJSONError, parse_json_document
from integration.domain.orders import PrivacyRequest
from integration.extensions import db, redis
from integration.models import Base, ComplianceRequest, Order, Shop, WebhookEvent
from integration.models.base import EncryptedText, utcnow

log = structlog.get_logger(__name__)

REDACTED_BODY = b'{"redacted": true}'
SCAN_BATCH = 200
REDIS_PREFIX = "nearstock:shop:"


def is_redacted(payload: Any) -> bool:
    return payload == {"redacted": True}


def customer_models() -> list[type]:
    """Every mapped model that declares ``__customer_match__``, in table-name order."""
    found = []
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if not getattr(model, "__customer_match__", None):
            continue
        if "shop_id" not in mapper.local_table.c:
            # Customers are the shop's: matching an email across shops would reach another
            # merchant's customer. Fail loudly rather than erase or export the wrong rows.
            raise RuntimeError(f"{model.__name__} declares __customer_match__ but has no shop_id")
        found.append(model)
    return sorted(found, key=lambda m: m.__tablename__)


def _match(model: type, shop_id: int, request: PrivacyRequest):
    table: Table = model.__table__  # type: ignore[attr-defined]
    conditions = []
    for name in model.__customer_match__:  # type: ignore[attr-defined]
        column = table.c[name]
        if "email" in name:
            if request.email:
                conditions.append(func.lower(column) == request.email.lower())
        elif request.customer_id:
            conditions.append(column == request.customer_id)
    if model is Order and request.order_ids:
        conditions.append(table.c.external_id.in_(request.order_ids))
    return and_(table.c.shop_id == shop_id, or_(*conditions)) if conditions else None


# -- customers/data_request -------------------------------------------------------------------


def data_request(shop: Shop, request: PrivacyRequest) -> ComplianceRequest:
    """Assemble what we hold about the customer into an export the merchant can hand over."""
    records: dict[str, list[dict]] = {}
    summary: dict[str, int] = {}
    for model in customer_models():
        if model is ComplianceRequest:
            continue  # earlier exports are copies of the same data; nesting them helps nobody
        condition = _match(model, shop.id, request)
        if condition is None:
            continue
        table: Table = model.__table__  # type: ignore[attr-defined]
        rows = [_row(table, r) for r in db.session.execute(select(table).where(condition).order_by(*table.primary_key))
                .mappings()]
        if not rows:
            continue
        for child, column in _child_tables(table):
            ids = [r["id"] for r in rows]
            children = [_row(child, r) for r in db.session.execute(
                select(child).where(column.in_(ids)).order_by(*child.primary_key)).mappings()]
            if not children:
                continue
            for row in rows:
                row.setdefault("related", {})[child.name] = [c for c in children if c[column.name] == row["id"]]
            summary[child.name] = summary.get(child.name, 0) + len(children)
        records[table.name] = rows
        summary[table.name] = len(rows)
    export = {
        "shop": shop.domain,
        "customer": {"id": request.customer_id, "email": request.email, "phone": request.phone},
        "data_request_id": request.request_id,
        "orders_requested": list(request.order_ids),
        "generated_at": utcnow().isoformat(),
        "records": records,
    }
    entry = ComplianceRequest(shop_id=shop.id, topic="customers/data_request", customer_external_id=request.customer_id,
                              email=request.email, export=export, summary=summary)
    db.session.add(entry)
    db.session.flush()
    log.info("compliance.data_request", shop=shop.domain, compliance_request_id=entry.id,
             data_request_id=request.request_id, found=summary)
    return entry


def _child_tables(parent: Table) -> Iterator[tuple[Table, Any]]:
    """Tables holding rows that belong to ``parent``'s rows (order lines, fulfillments of an order)."""
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is parent and table is not parent:
                yield table, fk.parent


def _row(table: Table, row) -> dict:
    return {c.name: _jsonable(row[c.name]) for c in table.columns if not isinstance(c.type, EncryptedText)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


# -- customers/redact -------------------------------------------------------------------------


def redact_customer(shop: Shop | None, customer_id: str | None, email: str | None,
                    orders_to_redact: tuple[str, ...] = (), *, phone: str | None = None,
                    shop_domain: str | None = None) -> dict[str, int]:
    """Erase the customer's personal data: every ``__pii__`` column of every matching row, and the
    inbox bodies that mention them. Rows stay (orders keep counting for statistics) with
    ``redacted_at`` set. Returns counts; records them (and nothing personal) for the merchant."""
    request = PrivacyRequest(shop_domain=shop.domain if shop else shop_domain or "", customer_id=customer_id,
                             email=email, phone=phone, order_ids=tuple(orders_to_redact))
    counts: dict[str, int] = {}
    now = utcnow()
    if shop is not None:
        for model in customer_models():
            condition = _match(model, shop.id, request)
            if condition is None:
                continue
            table: Table = model.__table__  # type: ignore[attr-defined]
            values: dict[str, Any] = {name: None for name in model.__pii__}  # type: ignore[attr-defined]
            if "redacted_at" in table.c:
                values["redacted_at"] = now
            counts[table.name] = db.session.execute(update(table).where(condition).values(values)).rowcount
    counts["webhook_events"] = _scrub_events(request)
    if shop is not None:
        db.session.add(ComplianceRequest(shop_id=shop.id, topic="customers/redact", customer_external_id=customer_id,
                                         summary={"erased": counts, "orders_to_redact": len(orders_to_redact)}))
    log.info("compliance.customer_redacted", shop=request.shop_domain, known_shop=shop is not None, erased=counts)
    return counts


def _scrub_events(request: PrivacyRequest) -> int:
    """Rewrite the inbox bodies of the shop that mention the customer (any status: a pending one
    would otherwise bring the data back; its handler skips a redacted body)."""
    needles = [request.email.lower().encode()] if request.email else []
    needles += [gid.rsplit("/", 1)[1].encode() for gid in (request.customer_id, *request.order_ids) if gid]
    if request.phone:
        needles.append(request.phone.lower().encode())
    if not needles or not request.shop_domain:
        return 0
    scrubbed, last_id = 0, 0
    while True:
        rows = db.session.execute(
            select(WebhookEvent.id, WebhookEvent.body)
            .where(WebhookEvent.shop_domain == request.shop_domain, WebhookEvent.id > last_id)
            .order_by(WebhookEvent.id)
            .limit(SCAN_BATCH)
        ).all()
        if not rows:
            return scrubbed
        last_id = rows[-1].id
        hits = [r.id for r in rows if r.body and r.body != REDACTED_BODY and _mentions(r.body, needles, request)]
        if hits:
            db.session.execute(update(WebhookEvent.__table__).where(WebhookEvent.id.in_(hits)).values(body=REDACTED_BODY))
            scrubbed += len(hits)


def _mentions(body: bytes, needles: list[bytes], request: PrivacyRequest) -> bool:
    lowered = body.lower()
    if not any(needle in lowered for needle in needles):
        return False  # cheap pre-filter; the JSON walk below confirms (numbers match by accident)
    try:
        data = parse_json_document(body)  # bounded: json.loads of a deep body raises RecursionError
    except UntrustedJSONError:
        return True  # unreadable but mentions the customer: err on the side of erasure
    personal = {v.lower() for v in (request.email, request.phone) if v}
    customer_tail = request.customer_id.rsplit("/", 1)[1] if request.customer_id else None
    order_tails = {gid.rsplit("/", 1)[1] for gid in request.order_ids}
    stack = [data]
    while stack:  # iterative: a hostile body may nest deeper than Python's recursion limit
        node = stack.pop()
        if isinstance(node, str):
            if node.strip().lower() in personal:
                return True
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            customer = node.get("customer")
            if customer_tail and isinstance(customer, dict) and customer_tail in (
                    str(customer.get("id")), str(customer.get("admin_graphql_api_id", "")).rsplit("/", 1)[-1]):
                return True
            if customer_tail and str(node.get("customer_id")) == customer_tail:
                return True
            if node.get("admin_graphql_api_id") in request.order_ids or str(node.get("order_id")) in order_tails:
                return True
            stack.extend(node.values())
    return False


# -- shop/redact --------------------------------------------------------------------------------


def redact_shop(shop_domain: str, *, current_event_id: int | None = None) -> dict[str, int]:
    """Delete everything about the shop: its row (child rows go by ON DELETE CASCADE), its inbox
    events and its Redis keys. Sent by Shopify 48 hours after an uninstall.

    The event being processed cannot be deleted under the inbox's feet (``process_event`` still has
    to mark it done, and a deleted row would fail that flush and roll everything back), so it is
    kept, emptied of the shop: no domain, no shop id, a redacted body.
    """
    session = db.session
    if current_event_id is not None:
        session.execute(update(WebhookEvent.__table__).where(WebhookEvent.id == current_event_id)
                        .values(shop_domain=None, shop_id=None, body=REDACTED_BODY, error=None))
    shop_id = session.execute(select(Shop.id).where(Shop.domain == shop_domain)).scalar_one_or_none()
    events_of_shop = WebhookEvent.shop_domain == shop_domain
    if shop_id is not None:
        events_of_shop = or_(events_of_shop, WebhookEvent.shop_id == shop_id)
    events = session.execute(delete(WebhookEvent.__table__).where(events_of_shop)).rowcount
    shops = 0
    if shop_id is not None:
        shops = session.execute(delete(Shop.__table__).where(Shop.id == shop_id)).rowcount
        for obj in list(session.identity_map.values()):  # deleted underneath the ORM: never flush them
            state = inspect(obj)
            current = isinstance(obj, WebhookEvent) and state.identity == (current_event_id,)
            if (isinstance(obj, Shop) and state.identity == (shop_id,)) or (
                    state.dict.get("shop_id") == shop_id and not current):
                session.expunge(obj)
    keys = delete_shop_keys(shop_domain)
    counts = {"shops": shops, "webhook_events": events, "redis_keys": keys}
    log.info("compliance.shop_redacted", shop=shop_domain, erased=counts)
    return counts


def shop_key_pattern(domain: str) -> re.Pattern[str]:
    """Keys naming ``domain`` as a whole ``:`` segment or as a ``{hash tag}``."""
    d = re.escape(domain)
    return re.compile(rf"(^|:){d}(:|$)|\{{{d}\}}")


def delete_shop_keys(domain: str) -> int:
    """Delete the shop's Redis keys: ``nearstock:shop:<domain>:*`` and the older spellings."""
    client = redis.client
    assert client is not None
    pattern = shop_key_pattern(domain)
    glob = "*" + re.sub(r"([*?\[\]\\])", r"\\\1", domain) + "*"  # server-side pre-filter
    deleted, batch = 0, []
    for raw in client.scan_iter(match=glob, count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        if pattern.search(key):
            batch.append(raw)
        if len(batch) >= 500:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted
