"""A shop's return policy: read for the decisions, read and replaced by the admin API."""

from __future__ import annotations

from typing import Any

from integration.domain.returns import REASONS, ReturnRules
from integration.extensions import db
from integration.models import ReturnRulesRow
from integration.models.base import utcnow
from integration.models.upsert import insert

MAX_WINDOW_DAYS = 365
MAX_SKUS = 500
MAX_SKU_LENGTH = 255
FIELDS = ("window_days", "accepted_reasons", "non_returnable_skus", "auto_approve", "reship_when_lost")


class RulesInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def load_rules(shop_id: int) -> ReturnRules:
    row = db.session.get(ReturnRulesRow, shop_id)
    if row is None:
        return ReturnRules()
    return ReturnRules(window_days=row.window_days, accepted_reasons=frozenset(row.accepted_reasons or ()),
                       non_returnable_skus=frozenset(row.non_returnable_skus or ()), auto_approve=row.auto_approve,
                       reship_when_lost=row.reship_when_lost)


def rules_json(rules: ReturnRules) -> dict[str, Any]:
    return {"window_days": rules.window_days, "accepted_reasons": sorted(rules.accepted_reasons),
            "non_returnable_skus": sorted(rules.non_returnable_skus), "auto_approve": rules.auto_approve,
            "reship_when_lost": rules.reship_when_lost, "reasons": list(REASONS)}


def parse_rules(data: dict[str, Any]) -> ReturnRules:
    """The whole policy from the admin's JSON (every field required), or RulesInputError."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise RulesInputError(unknown[0], f"unknown field {unknown[0]}")
    for name in FIELDS:
        if name not in data:
            raise RulesInputError(name, f"{name} is required")
    window = data["window_days"]
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= MAX_WINDOW_DAYS:
        raise RulesInputError("window_days", f"window_days must be a whole number from 0 to {MAX_WINDOW_DAYS}")
    reasons = data["accepted_reasons"]
    if not isinstance(reasons, list) or any(r not in REASONS for r in reasons):
        raise RulesInputError("accepted_reasons", f"accepted_reasons must be a list of {', '.join(REASONS)}")
    skus = data["non_returnable_skus"]
    if (not isinstance(skus, list) or len(skus) > MAX_SKUS
            or any(not isinstance(s, str) or not s.strip() or len(s) > MAX_SKU_LENGTH for s in skus)):
        raise RulesInputError("non_returnable_skus",
                              f"non_returnable_skus must be a list of up to {MAX_SKUS} SKUs (1 to 255 characters)")
    for flag in ("auto_approve", "reship_when_lost"):
        if not isinstance(data[flag], bool):
            raise RulesInputError(flag, f"{flag} must be true or false")
    return ReturnRules(window_days=window, accepted_reasons=frozenset(reasons),
                       non_returnable_skus=frozenset(s.strip() for s in skus), auto_approve=data["auto_approve"],
                       reship_when_lost=data["reship_when_lost"])


def save_rules(shop_id: int, rules: ReturnRules) -> None:
    """Replace the shop's policy; commits."""
    values = {"window_days": rules.window_days, "accepted_reasons": sorted(rules.accepted_reasons),
              "non_returnable_skus": sorted(rules.non_returnable_skus), "auto_approve": rules.auto_approve,
              "reship_when_lost": rules.reship_when_lost, "updated_at": utcnow()}
    db.session.execute(insert(ReturnRulesRow).values(shop_id=shop_id, **values)
                       .on_conflict_do_update(index_elements=["shop_id"], set_=values))
    db.session.commit()
