"""Claims: what the merchant asks back from a carrier or a 3PL for a lost or damaged parcel, with
the evidence (notes, photo links), settled by the merchant when the answer comes. One claim per
(parcel, problem, party): opening it again returns the first. The customer hears that a claim was
opened for their parcel and how it ended (``claim_opened`` / ``claim_settled``)."""

from __future__ import annotations

from decimal import Decimal

import structlog
from sqlalchemy import select

from integration.extensions import db
from integration.models import Claim, Order, Reship, Shipment
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.returns import notify

log = structlog.get_logger(__name__)

KINDS = ("lost", "damaged", "missing_part")
AGAINST = ("carrier", "warehouse")
OUTCOMES = ("reshipped", "refunded", "rejected")


class ClaimError(ValueError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


def open_claim(shop_id: int, shipment_id: int, *, against: str, kind: str, amount: Decimal,
               notes: str | None = None, photo_urls: list[str] | None = None) -> Claim:
    """Record the claim (once per parcel, kind and party) and tell the customer; commits."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.shop_id != shop_id:
        raise ClaimError(404, "not_found", "no such shipment", "shipment_id")
    order = db.session.get(Order, shipment.order_id)
    reship_id = db.session.execute(select(Reship.id).where(Reship.shipment_id == shipment.id, Reship.reason == kind)
                                   ).scalar()
    claim_id = db.session.execute(
        insert(Claim).values(shop_id=shop_id, order_id=order.id, shipment_id=shipment.id, reship_id=reship_id,
                             against=against, kind=kind, notes=notes, photo_urls=photo_urls or [],
                             currency=order.currency, amount_claimed=amount, status="open", created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["shipment_id", "kind", "against"]).returning(Claim.id)).scalar()
    if claim_id is None:
        return db.session.execute(select(Claim).where(Claim.shipment_id == shipment.id, Claim.kind == kind,
                                                      Claim.against == against)).scalar_one()
    claim = db.session.get(Claim, claim_id)
    notify.to_customer(order, "claim_opened", f"claim:{claim.id}", {
        "claim_id": claim.id, "kind": kind, "order_name": order.name,
        "items": notify.order_items(order, shipment.lines or [])})
    db.session.commit()
    log.info("claim.opened", claim_id=claim.id, kind=kind, against=against)
    return claim


def settle_claim(shop_id: int, claim_id: int, *, outcome: str, amount_settled: Decimal | None) -> Claim:
    """Close the claim with its outcome; settling it again the same way changes nothing, another
    way is refused (409). Commits."""
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.shop_id != shop_id:
        raise ClaimError(404, "not_found", "no such claim")
    if claim.status != "open":
        if claim.outcome == outcome:
            return claim
        raise ClaimError(409, "already_settled", f"the claim was already closed ({claim.outcome})", "outcome")
    claim.status = "rejected" if outcome == "rejected" else "settled"
    claim.outcome, claim.settled_at = outcome, utcnow()
    claim.amount_settled = Decimal(0) if outcome == "rejected" else amount_settled
    order = db.session.get(Order, claim.order_id)
    shipment = db.session.get(Shipment, claim.shipment_id)
    notify.to_customer(order, "claim_settled", f"claim:{claim.id}", {
        "claim_id": claim.id, "outcome": outcome, "order_name": order.name,
        "items": notify.order_items(order, shipment.lines or [])})
    db.session.commit()
    log.info("claim.settled", claim_id=claim.id, outcome=outcome)
    return claim
