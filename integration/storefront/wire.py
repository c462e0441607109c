"""How a stock status travels: variant ids in both of Shopify's forms, and the canonical JSON of a
status document with its digest (what the Redis cache and the ``nearstock.status`` metafield hold,
so an unchanged document is never written again)."""

from __future__ import annotations

import hashlib
import json

VARIANT_PREFIX = "gid://shopify/ProductVariant/"


def variant_gid(variant_id: str) -> str:
    return variant_id if variant_id.startswith("gid://") else f"{VARIANT_PREFIX}{variant_id}"


def variant_number(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def encode(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(encoded: str) -> str:
    return hashlib.sha256(encoded.encode()).hexdigest()
