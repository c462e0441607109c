"""Listings Items API 2021-08-01 ``patchListingsItem`` (and the patch logic feeds reuse).

Only ``/attributes/fulfillment_availability`` changes emulator state (the MFN quantity of channel
``DEFAULT``); other attribute paths are accepted and ignored. ``productType`` must be ``PRODUCT``
(offer-only updates) or the listing's own type. A SKU without a listing in the marketplace, or a
quantity for an Amazon (FBA) channel, makes the submission INVALID with an issue.
"""

from __future__ import annotations

import uuid

from .common import ApiError, Context, invalid
from .state import SellerState

OPS = ("add", "replace", "merge", "delete")
AVAILABILITY = "/attributes/fulfillment_availability"


def issue(code: str, message: str, attribute: str | None = None, severity: str = "ERROR",
          category: str = "INVALID_ATTRIBUTE") -> dict:
    entry = {"code": code, "message": message, "severity": severity, "categories": [category]}
    if attribute:
        entry["attributeNames"] = [attribute]
    return entry


def check_patches(patches) -> None:
    """The request shape (``ListingsItemPatchRequest.patches``); shape errors are 400s."""
    if not isinstance(patches, list) or not patches:
        raise invalid("Invalid input", "patches must hold at least one JSON Patch operation")
    for patch in patches:
        if not isinstance(patch, dict) or patch.get("op") not in OPS or not isinstance(patch.get("path"), str):
            raise invalid("Invalid input", "each patch needs op (add, replace, merge, delete) and a path")
        value = patch.get("value")
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise invalid("Invalid input", "patch value must be an array of objects")


def apply_patches(state: SellerState, sku: str, marketplace_id: str, product_type: str, patches: list[dict], *,
                  preview: bool = False) -> list[dict]:
    """Validate and (unless ``preview``) apply; returns the issues (ERROR ones block the update)."""
    listing = state.listings.get((sku, marketplace_id))
    if listing is None:
        return [issue("4000001", f"The SKU {sku} has no listing in marketplace {marketplace_id}.")]
    if product_type not in ("PRODUCT", listing.product_type):
        return [issue("4000003", f"productType {product_type} does not match the listing ({listing.product_type}).",
                      "product_type")]
    quantity = listing.quantity
    for patch in patches:
        if patch["path"] != AVAILABILITY:
            continue
        if patch["op"] == "delete":
            quantity = None
            continue
        for entry in patch.get("value") or []:
            channel = entry.get("fulfillment_channel_code")
            if channel != "DEFAULT":
                return [issue("90220", f"fulfillment_channel_code {channel!r} cannot be set by the seller; "
                                       "use DEFAULT.", "fulfillment_availability")]
            value = entry.get("quantity")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return [issue("90220", "'quantity' must be a non-negative integer.", "fulfillment_availability")]
            quantity = value
    if not preview:
        listing.quantity = quantity
        listing.updated = state.clock.now()
    return []


def patch_listings_item(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow("marketplaceIds", "includedData", "mode", "issueLocale")
    if ctx.path["sellerId"] != state.seller_id:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       "The sellerId does not match the authorized selling partner.")
    marketplaces = ctx.many("marketplaceIds", required=True)
    if len(marketplaces) != 1 or marketplaces[0] not in state.marketplaces:
        raise invalid("Invalid input", "marketplaceIds must name exactly one of the seller's marketplaces")
    included = ctx.many("includedData", enum=("identifiers", "issues")) or ["issues"]
    mode = ctx.one("mode")
    if mode not in (None, "VALIDATION_PREVIEW"):
        raise invalid("Invalid input", "mode must be VALIDATION_PREVIEW")
    body = ctx.json_body()
    if not isinstance(body.get("productType"), str) or not body["productType"]:
        raise invalid("Invalid input", "productType is required")
    check_patches(body.get("patches"))
    sku = ctx.path["sku"]
    issues = apply_patches(state, sku, marketplaces[0], body["productType"], body["patches"], preview=bool(mode))
    ok = not any(i["severity"] == "ERROR" for i in issues)
    out = {"sku": sku, "status": ("VALID" if mode else "ACCEPTED") if ok else "INVALID",
           "submissionId": uuid.uuid4().hex}
    if "issues" in included:
        out["issues"] = issues
    if "identifiers" in included:
        listing = state.listings.get((sku, marketplaces[0]))
        out["identifiers"] = [{"marketplaceId": marketplaces[0], "asin": listing.asin}] if listing else []
    return 200, out
