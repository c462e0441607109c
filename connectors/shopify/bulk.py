"""Bulk exports: start one, poll it, and stream its JSONL result with bounded memory.

A bulk query's result is a JSONL file, one object per line; objects of nested connections carry
``__parentId`` instead of being nested. Since 2026-01 ``groupObjects`` defaults to ``false`` and
children may appear anywhere after their parent; with ``groupObjects: true`` they directly follow
it. We always ask for grouping, so :func:`iter_bulk_results` can hand out one parent with its
children at a time while reading the file as a stream: memory holds one group, never the file.
https://shopify.dev/docs/api/usage/bulk-operations/queries
https://shopify.dev/changelog/bulk-operations-group-objects-default-changed-to-false
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.errors import PermanentError, RetryableError
from connectors.http import make_session
from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient, load_document
from integration.domain.channels import BulkOperation, InventoryLevel, Variant, VariantStock

BUSY_CODES = {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}
DOWNLOAD_TIMEOUT = (5.0, 60.0)


@dataclass
class BulkObject:
    """One JSONL object (without ``__parentId``) and the objects whose parent it is."""

    data: dict[str, Any]
    children: list[BulkObject] = field(default_factory=list)

    @property
    def id(self) -> str | None:
        return self.data.get("id")


def run_bulk_query(client: ShopifyClient, query: str, *, group_objects: bool = True) -> BulkOperation:
    """Start a bulk export of ``query`` (a query with at least one connection, no ``first``)."""
    payload = client.execute(
        "BulkOperationRunQuery",
        {"query": query, "groupObjects": group_objects},
        handled_codes=BUSY_CODES,
    )["bulkOperationRunQuery"]
    errors = payload.get("userErrors") or []
    if errors:
        # Too many bulk operations already running for this shop: try again later.
        raise RetryableError(
            "; ".join(e.get("message", "") for e in errors),
            retry_after=60,
            system="shopify",
            operation="BulkOperationRunQuery",
        )
    return mapping.bulk_operation(payload["bulkOperation"])


def run_variant_stock_export(client: ShopifyClient) -> BulkOperation:
    """Every variant with its inventory levels (see ``queries/BulkVariantStock.graphql``)."""
    return run_bulk_query(client, load_document("BulkVariantStock").text)


def get_bulk_operation(client: ShopifyClient, operation_id: str) -> BulkOperation | None:
    node = client.execute("BulkOperation", {"id": operation_id}).get("bulkOperation")
    return mapping.bulk_operation(node) if node else None


def wait_for_bulk_operation(
    client: ShopifyClient,
    operation_id: str,
    *,
    timeout: float = 600.0,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> BulkOperation:
    """Poll until the operation finishes (jobs should rather react to the
    ``BULK_OPERATIONS_FINISH`` webhook and re-enqueue themselves)."""
    deadline = time.monotonic() + timeout
    while True:
        operation = get_bulk_operation(client, operation_id)
        if operation is None:
            raise PermanentError(f"unknown bulk operation {operation_id}", system="shopify")
        if operation.finished:
            return operation
        if time.monotonic() + interval > deadline:
            raise RetryableError(
                f"bulk operation {operation_id} still {operation.status}",
                retry_after=interval * 5,
                system="shopify",
            )
        sleep(interval)


def iter_bulk_results(
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = DOWNLOAD_TIMEOUT,
) -> Iterator[BulkObject]:
    """Stream a grouped JSONL result: yields each top-level object with its descendants.

    The file is read line by line (``stream=True``); only the current group is in memory. A
    child whose parent is not in the current group means the file was not grouped: we stop
    with :class:`PermanentError` rather than hand out incomplete parents.
    """
    session = session or make_session(timeout=timeout)
    # A pre-signed storage URL: no Shopify token is ever sent with it.
    try:
        response = session.get(url, stream=True, timeout=timeout)
    except requests.RequestException as exc:
        raise RetryableError(f"{type(exc).__name__} downloading bulk result") from exc
    with response:
        if response.status_code >= 500:
            raise RetryableError(f"HTTP {response.status_code} downloading bulk result")
        if response.status_code != 200:
            # 403/404: the URL expired (seven days) or is wrong; start a new export.
            raise PermanentError(f"HTTP {response.status_code} downloading bulk result", system="shopify")
        yield from _group(response.iter_lines(chunk_size=64 * 1024))


def _group(lines) -> Iterator[BulkObject]:
    root: BulkObject | None = None
    index: dict[str, BulkObject] = {}
    for number, line in enumerate(lines, start=1):
        if not line or not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise PermanentError(f"bulk result line {number} is not JSON") from exc
        parent_id = row.pop("__parentId", None)
        obj = BulkObject(row)
        if parent_id is None:
            if root is not None:
                yield root
            root, index = obj, {}
        else:
            parent = index.get(parent_id)
            if parent is None:
                raise PermanentError(
                    f"bulk result line {number}: parent {parent_id} is not the current group; "
                    "run the export with groupObjects: true",
                    system="shopify",
                )
            parent.children.append(obj)
        if obj.id:
            index[obj.id] = obj
    if root is not None:
        yield root


def iter_variant_stock(url: str, *, session: requests.Session | None = None) -> Iterator[VariantStock]:
    """The rows of :func:`run_variant_stock_export` as domain objects."""
    for obj in iter_bulk_results(url, session=session):
        item_id = (obj.data.get("inventoryItem") or {}).get("id") or ""
        variant: Variant = mapping.variant(obj.data, inventory_item_id=item_id)
        levels: list[InventoryLevel] = [
            mapping.inventory_level(item_id, child.data) for child in obj.children if "quantities" in child.data
        ]
        yield VariantStock(variant, tuple(levels))
