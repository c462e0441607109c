"""Suggested Shopify locations for each warehouse not mapped yet, for the admin's mapping step:
the imported locations in the warehouse's country first (a location in another country is never
suggested), then by name similarity, ignoring filler words such as "warehouse" or "fulfillment
center" in any of the languages merchants name their 3PL sites in.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from sqlalchemy import select

from integration.extensions import db
from integration.models import Location
from integration.warehouses.settings import list_warehouses


def _locations(shop_id: int) -> list[Location]:
    return list(db.session.execute(select(Location).where(
        Location.shop_id == shop_id, Location.deleted_at.is_(None)).order_by(Location.name)).scalars())


def _tokens(text: str) -> set[str]:
    noise = {"warehouse", "wh", "fulfillment", "fulfilment", "center", "centre", "fc", "dc", "hub", "the", "and",
             "lager", "entrepot", "almacen", "magazzino", "3pl", "location"}
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t and t not in noise}


def similarity(a: str, b: str) -> float:
    """0..1: the better of token overlap (Jaccard) and character similarity, ignoring filler words."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    jaccard = len(ta & tb) / len(ta | tb)
    chars = SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio()
    return round(max(jaccard, chars), 3)


def suggest_mappings(shop_id: int, limit: int = 3) -> list[dict]:
    """For each unmapped warehouse, the imported Shopify locations that best match it: same
    country first (a location in another country is never suggested), then name similarity."""
    locations = _locations(shop_id)
    warehouses = list_warehouses(shop_id)
    mapped = {w.location_shopify_id for w in warehouses if w.location_shopify_id}
    out = []
    for w in warehouses:
        if w.location_shopify_id:
            continue
        ranked = []
        for loc in locations:
            if loc.shopify_id in mapped:
                continue
            same = bool(w.country_code) and loc.country_code == w.country_code
            if w.country_code and loc.country_code and not same:
                continue
            sim = max(similarity(w.name or "", loc.name or ""), similarity(w.code, loc.name or ""))
            score = round((0.6 if same else 0.0) + 0.4 * sim, 3)
            if same or sim >= 0.5:
                reasons = (["same country"] if same else []) + ([f"similar name ({sim:.0%})"] if sim >= 0.3 else [])
                ranked.append({"location_shopify_id": loc.shopify_id, "name": loc.name,
                               "country_code": loc.country_code, "score": score, "reasons": reasons})
        ranked.sort(key=lambda s: (-s["score"], s["name"]))
        out.append({"warehouse_id": w.id, "code": w.code, "name": w.name, "country_code": w.country_code or None,
                    "suggestions": ranked[:limit]})
    return out
