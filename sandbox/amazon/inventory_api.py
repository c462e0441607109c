"""FBA Inventory API v1 ``getInventorySummaries`` (Marketplace granularity, 50 per page).

A ``nextToken`` dies 30 seconds (emulator clock) after it was issued and only continues the query
that produced it (same parameters); with ``startDateTime`` the SKU filters are ignored, as Amazon
documents.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from .common import Context, invalid, iso
from .state import FbaStock, SellerState

PAGE_SIZE = 50
TOKEN_TTL = timedelta(seconds=30)
OLDEST = timedelta(days=548)  # startDateTime: no earlier than 18 months ago
PARAMS = ("details", "granularityType", "granularityId", "startDateTime", "sellerSkus", "sellerSku", "nextToken",
          "marketplaceIds")


def summary(stock: FbaStock, details: bool) -> dict:
    inbound = stock.inbound_working + stock.inbound_shipped + stock.inbound_receiving
    out = {"asin": stock.asin, "fnSku": stock.fnsku, "sellerSku": stock.sku, "condition": "NewItem",
           "lastUpdatedTime": iso(stock.updated), "productName": stock.title,
           "totalQuantity": stock.fulfillable + stock.reserved + stock.unfulfillable + inbound}
    if details:
        out["inventoryDetails"] = {
            "fulfillableQuantity": stock.fulfillable, "inboundWorkingQuantity": stock.inbound_working,
            "inboundShippedQuantity": stock.inbound_shipped, "inboundReceivingQuantity": stock.inbound_receiving,
            "reservedQuantity": {"totalReservedQuantity": stock.reserved,
                                 "pendingCustomerOrderQuantity": stock.reserved,
                                 "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
            "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": stock.unfulfillable,
                                      "customerDamagedQuantity": stock.unfulfillable, "warehouseDamagedQuantity": 0,
                                      "distributorDamagedQuantity": 0, "carrierDamagedQuantity": 0,
                                      "defectiveQuantity": 0, "expiredQuantity": 0}}
    return out


def get_inventory_summaries(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow(*PARAMS)
    if ctx.one("granularityType", required=True) != "Marketplace":
        raise invalid("Invalid granularityType", "granularityType must be Marketplace")
    granularity_id = ctx.one("granularityId", required=True)
    marketplaces = ctx.many("marketplaceIds", required=True, max_items=1)
    if granularity_id not in state.marketplaces or marketplaces[0] != granularity_id:
        raise invalid("Invalid granularityId", "granularityId and marketplaceIds must name one seller marketplace")
    details = ctx.one("details") or "false"
    if details not in ("true", "false"):
        raise invalid("Invalid details", "details must be true or false")
    start = ctx.time("startDateTime")
    if start is not None and not ctx.now - OLDEST <= start <= ctx.now:
        raise invalid("Invalid startDateTime", "startDateTime must lie within the last 18 months")
    skus = set(ctx.many("sellerSkus", max_items=50))
    single = ctx.one("sellerSku")
    signature = hashlib.sha256(json.dumps([ctx.one(k) for k in PARAMS if k != "nextToken"]).encode()).hexdigest()
    offset = 0
    token = ctx.one("nextToken")
    if token:
        entry = state.inventory_tokens.get(token)
        if not entry or entry[0] != signature or entry[2] <= ctx.now:
            raise invalid("Invalid nextToken", "The nextToken is invalid or expired (tokens live 30 seconds).")
        offset = entry[1]
    records = sorted((s for (sku, m), s in state.stock.items() if m == granularity_id), key=lambda s: s.sku)
    if start is not None:
        records = [s for s in records if s.updated > start]
    elif skus:
        records = [s for s in records if s.sku in skus]
    elif single:
        records = [s for s in records if s.sku == single]
    page = records[offset:offset + PAGE_SIZE]
    body: dict = {"payload": {"granularity": {"granularityType": "Marketplace", "granularityId": granularity_id},
                              "inventorySummaries": [summary(s, details == "true") for s in page]}}
    if offset + PAGE_SIZE < len(records):
        next_token = secrets.token_urlsafe(32)
        state.inventory_tokens[next_token] = (signature, offset + PAGE_SIZE, ctx.now + TOKEN_TTL)
        body["pagination"] = {"nextToken": next_token}
    return 200, body
