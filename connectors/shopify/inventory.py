"""Inventory levels and ``inventorySetQuantities`` with compare-and-swap and idempotency.

2026-07 rules (https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/inventorySetQuantities):

* every quantity carries ``changeFromQuantity``: the quantity we believe Shopify holds. A
  mismatch fails with ``CHANGE_FROM_QUANTITY_STALE``; an explicit ``null`` skips the check; leaving
  it out is an error. (``compareQuantity`` / ``ignoreCompareQuantity`` are gone.)
* the mutation must carry ``@idempotent(key: ...)`` (mandatory since 2026-04). The same key with
  other variables is ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``, so every distinct request here gets
  its own key derived deterministically from the caller's: a job retried with the same key
  replays the same requests and Shopify deduplicates them.
  https://shopify.dev/docs/api/usage/implementing-idempotency
* input arrays hold at most 250 entries (https://shopify.dev/docs/api/usage/limits).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from connectors.errors import RetryableError
from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.batching import chunks
from integration.domain.channels import InventoryChange, InventoryLevel, InventorySetResult

MAX_QUANTITIES_PER_CALL = 250
LEVELS_BATCH = 50
STALE = "CHANGE_FROM_QUANTITY_STALE"
PREVIOUS_ATTEMPT_FAILED = "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
CONCURRENT = "IDEMPOTENCY_CONCURRENT_REQUEST"

ChangeLike = InventoryChange | tuple[str, str, int, int | None]


def get_inventory_levels(
    client: ShopifyClient,
    inventory_item_ids: Iterable[str],
    location_ids: Iterable[str],
    names: Sequence[str] = ("available", "on_hand"),
) -> list[InventoryLevel]:
    """The levels of these items at these locations (items not stocked there are left out)."""
    item_ids = list(dict.fromkeys(inventory_item_ids))
    levels: list[InventoryLevel] = []
    for location_id in dict.fromkeys(location_ids):
        for batch in chunks(item_ids, LEVELS_BATCH):
            data = client.execute(
                "InventoryLevelsAtLocation",
                {"itemIds": list(batch), "locationId": location_id, "names": list(names)},
            )
            for item in data["nodes"]:
                if item and item.get("inventoryLevel"):
                    levels.append(mapping.inventory_level(item["id"], item["inventoryLevel"], location_id))
    return levels


def set_inventory(
    client: ShopifyClient,
    name: str,
    reason: str,
    changes: Iterable[ChangeLike],
    idempotency_key: str,
    *,
    reference_document_uri: str | None = None,
    max_attempts: int = 3,
) -> InventorySetResult:
    """Set absolute ``name`` quantities (``available`` or ``on_hand``) with compare-and-swap.

    ``changes`` are ``(inventory_item_id, location_id, quantity, change_from)`` tuples or
    :class:`InventoryChange`. Sent in chunks of 250. When Shopify answers
    ``CHANGE_FROM_QUANTITY_STALE`` (someone changed the quantity since we read it), the current
    quantities are re-read and the stale items retried with them, up to ``max_attempts`` requests
    per chunk; whatever is still stale then is returned in ``unapplied`` for the next
    reconciliation rather than overwritten blindly.
    """
    items = [_change(c) for c in changes]
    pairs = [(c.inventory_item_id, c.location_id) for c in items]
    if len(set(pairs)) != len(pairs):
        raise ValueError("an (inventory item, location) pair appears twice")
    applied: list[InventoryChange] = []
    unapplied: list[InventoryChange] = []
    groups: list[str] = []
    for index, chunk in enumerate(chunks(items, MAX_QUANTITIES_PER_CALL)):
        pending = list(chunk)
        for attempt in range(max_attempts):
            key = f"{idempotency_key}:{index}" if attempt == 0 else _retry_key(idempotency_key, index, attempt, pending)
            payload = client.execute(
                "InventorySetQuantities",
                {
                    "input": _input(name, reason, pending, reference_document_uri),
                    "idempotencyKey": key,
                },
                handled_codes={STALE, PREVIOUS_ATTEMPT_FAILED, CONCURRENT},
            )["inventorySetQuantities"]
            errors = payload.get("userErrors") or []
            group = payload.get("inventoryAdjustmentGroup")
            if group and group.get("id"):
                groups.append(group["id"])
            if not errors:
                applied.extend(pending)
                break
            if any(e.get("code") == CONCURRENT for e in errors):
                raise RetryableError(
                    "the same inventory request is still in progress at Shopify",
                    retry_after=2,
                    system="shopify",
                    operation="InventorySetQuantities",
                )
            stale = _stale_indexes(errors, len(pending))
            if group:
                # Shopify applied the rest of the chunk: only the stale ones are left.
                applied.extend(c for i, c in enumerate(pending) if i not in stale)
                pending = [pending[i] for i in sorted(stale)]
                stale = set(range(len(pending)))
            if attempt == max_attempts - 1:
                unapplied.extend(pending)
                break
            pending, already = _refresh(client, name, pending, stale)
            applied.extend(already)
            if not pending:
                break
    return InventorySetResult(tuple(applied), tuple(unapplied), tuple(groups))


def _change(value: ChangeLike) -> InventoryChange:
    if isinstance(value, InventoryChange):
        return value
    item, location, quantity, change_from = value
    return InventoryChange(item, location, int(quantity), change_from)


def _input(name, reason, changes: Sequence[InventoryChange], uri: str | None) -> dict:
    data = {
        "name": name,
        "reason": reason,
        "quantities": [
            {
                "inventoryItemId": c.inventory_item_id,
                "locationId": c.location_id,
                "quantity": c.quantity,
                # Always present, even when None: 2026-04+ rejects an omitted changeFromQuantity.
                "changeFromQuantity": c.change_from,
            }
            for c in changes
        ],
    }
    if uri:
        data["referenceDocumentUri"] = uri
    return data


def _retry_key(base: str, index: int, attempt: int, pending: Sequence[InventoryChange]) -> str:
    """Deterministic per (chunk, attempt, exact variables): a re-run job hits the same keys for
    the same requests, and never reuses a key with different variables."""
    digest = hashlib.sha256(
        json.dumps([[c.inventory_item_id, c.location_id, c.quantity, c.change_from] for c in pending]).encode()
    ).hexdigest()[:16]
    return f"{base}:{index}:r{attempt}:{digest}"


def _stale_indexes(errors: list[dict], size: int) -> set[int]:
    """Positions named by the error paths (``["input", "quantities", "3", ...]``); all of them
    when Shopify does not say (or a replayed key failed before)."""
    found: set[int] = set()
    for error in errors:
        path = error.get("field") or []
        if error.get("code") == STALE and "quantities" in path:
            position = path.index("quantities") + 1
            if position < len(path) and str(path[position]).isdigit():
                found.add(int(path[position]))
                continue
        return set(range(size))
    return {i for i in found if i < size} or set(range(size))


def _refresh(
    client: ShopifyClient, name: str, pending: list[InventoryChange], stale: set[int]
) -> tuple[list[InventoryChange], list[InventoryChange]]:
    """Re-read the stale items' current quantities. Returns (to send again, already at target)."""
    to_read = [pending[i] for i in stale]
    current: dict[tuple[str, str], int | None] = {}
    by_location: dict[str, list[str]] = {}
    for c in to_read:
        by_location.setdefault(c.location_id, []).append(c.inventory_item_id)
    for location_id, item_ids in by_location.items():
        for level in get_inventory_levels(client, item_ids, [location_id], names=[name]):
            current[(level.inventory_item_id, location_id)] = level.quantity(name)
    again: list[InventoryChange] = []
    done: list[InventoryChange] = []
    for i, c in enumerate(pending):
        if i not in stale:
            again.append(c)
            continue
        now = current.get((c.inventory_item_id, c.location_id))
        if now is None:
            again.append(c)  # unreadable: resend as is; it stays stale and ends up unapplied
        elif now == c.quantity:
            done.append(replace(c, change_from=now))  # someone already set what we wanted
        else:
            again.append(replace(c, change_from=now))
    return again, done
