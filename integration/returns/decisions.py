"""The merchant's decision on a request the rules left open: approve (as a refund, or an exchange
for other variants) or decline with Shopify's reason. Deciding again the same way returns the
return unchanged (a second click, a retried request); a return already decided otherwise is 409."""

from __future__ import annotations

from sqlalchemy import select

from integration.domain.returns import DECLINE_REASONS
from integration.extensions import db
from integration.models import Order, Return, ReturnLine, ReturnState, Variant
from integration.returns.intake import mark_approved, mark_declined

KINDS = ("refund", "exchange")


class DecisionError(ValueError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


def find_return(shop_id: int, return_id: int) -> Return:
    ret = db.session.get(Return, return_id)
    if ret is None or ret.shop_id != shop_id:
        raise DecisionError(404, "not_found", "no such return")
    return ret


def approve(shop_id: int, return_id: int, *, kind: str = "refund", exchanges: dict[int, str] | None = None) -> Return:
    """``exchanges``: return line id -> the SKU sent instead (an exchange); commits."""
    ret = find_return(shop_id, return_id)
    if ret.status != ReturnState.REQUESTED:
        if ret.status == ReturnState.DECLINED:
            raise DecisionError(409, "already_decided", "the return was declined", "status")
        return ret
    if kind == "exchange":
        _set_exchanges(ret, exchanges or {})
    ret.kind = kind
    mark_approved(ret, "merchant")
    db.session.commit()
    return ret


def decline(shop_id: int, return_id: int, *, reason: str, note: str | None) -> Return:
    if reason not in DECLINE_REASONS:
        raise DecisionError(422, "invalid", f"reason must be one of {', '.join(DECLINE_REASONS)}", "reason")
    ret = find_return(shop_id, return_id)
    if ret.status != ReturnState.REQUESTED:
        if ret.status == ReturnState.DECLINED:
            return ret
        raise DecisionError(409, "already_decided", "the return was already approved", "status")
    mark_declined(ret, "merchant", reason, note)
    db.session.commit()
    return ret


def _set_exchanges(ret: Return, exchanges: dict[int, str]) -> None:
    lines = {ln.id: ln for ln in db.session.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id)).scalars()}
    if not exchanges:
        raise DecisionError(422, "invalid", "an exchange names the SKU sent for each line", "exchanges")
    unknown = sorted(set(exchanges) - set(lines))
    if unknown:
        raise DecisionError(422, "invalid", f"line {unknown[0]} is not one of the return's", "exchanges")
    shop_id = db.session.get(Order, ret.order_id).shop_id
    known = set(db.session.execute(select(Variant.sku).where(Variant.shop_id == shop_id,
                                                             Variant.sku.in_(set(exchanges.values())))).scalars())
    for line_id, sku in exchanges.items():
        if sku not in known:
            raise DecisionError(422, "invalid", f"{sku[:64]} is not a SKU of the shop", "exchanges")
        lines[line_id].exchange_sku = sku
