"""A customer's return request from the tracking page (stores without Shopify's self-serve returns).

The form offers the order's lines Shopify still counts as returnable (shipped, not refunded, not in
another return), less the shop's final-sale SKUs; the reasons the shop's return rules accept; a
refund, or an exchange for another variant of the same product. Submitting files the request at
Shopify (``returnRequest``: Shopify holds it as it holds a self-serve one) and stores our row
through the intake the ``returns/request`` webhook uses: one row per Shopify return, so the
webhook that follows finds it and adds nothing. Everything is checked before Shopify is called; a
refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError
from integration.domain.channels import ChannelReturn, ReturnLineInput
from integration.domain.returns import REASONS
from integration.extensions import db
from integration.models import Order, Return, ReturnLine, ReturnState, Shop, Variant
from integration.returns.intake import store_request
from integration.returns.rules import load_rules
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)

KINDS = ("refund", "exchange")
MAX_NOTE = 300  # Shopify's customerNote limit
MAX_LINES = 50
MAX_UNITS = 1000
# Once the warehouse has the parcel, the choice of refund or exchange is settled.
_CHOICE_OPEN = (ReturnState.REQUESTED, ReturnState.APPROVED, ReturnState.AUTHORIZED)


class RequestError(ValueError):
    """A refused request: the HTTP status, a code the page explains, the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


@dataclass(frozen=True)
class Option:
    sku: str
    title: str


@dataclass(frozen=True)
class FormLine:
    """One returnable line as the form shows it."""

    key: str  # the fulfillment line item's number: the form's field suffix
    fulfillment_line_item_id: str
    sku: str | None
    title: str
    returnable: int
    exchange_options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Chosen:
    """What the customer asked for one line."""

    key: str
    quantity: int
    reason: str
    exchange_sku: str | None = None


def accepted_reasons(shop_id: int) -> list[str]:
    """The reasons the shop takes returns for (all of Shopify's when the rules name none), in
    Shopify's order; never UNKNOWN, which is what a missing reason is stored as."""
    accepted = load_rules(shop_id).accepted_reasons
    return [r for r in REASONS if r != "UNKNOWN" and (not accepted or r in accepted)]


def reason_handle(reason: str) -> str:
    """Shopify's standardized reason handle of a ReturnReason value (``SIZE_TOO_SMALL`` ->
    ``size-too-small``)."""
    return reason.lower().replace("_", "-")


def form_lines(shop: Shop, order: Order) -> list[FormLine]:
    """The order's returnable lines, as Shopify counts them now, without the final-sale SKUs."""
    final_sale = load_rules(shop.id).non_returnable_skus
    names = {ln.sku: ln.name for ln in order.lines if ln.sku}
    out = []
    for line in store_for(shop).get_returnable_lines(order.external_id)[:MAX_LINES]:
        if line.sku in final_sale or line.quantity <= 0:
            continue
        key = line.fulfillment_line_item_id.rsplit("/", 1)[-1]
        out.append(FormLine(key=key, fulfillment_line_item_id=line.fulfillment_line_item_id, sku=line.sku,
                            title=names.get(line.sku) or line.sku or "", returnable=line.quantity,
                            exchange_options=_exchange_options(shop.id, order, line.sku)))
    return out


def _exchange_options(shop_id: int, order: Order, sku: str | None) -> tuple[Option, ...]:
    """The other live variants (with a SKU) of the line's product."""
    if not sku:
        return ()
    variant_id = next((ln.variant_external_id for ln in order.lines if ln.sku == sku and ln.variant_external_id), None)
    lookup = Variant.shopify_id == variant_id if variant_id else Variant.sku == sku
    product = db.session.execute(select(Variant.product_shopify_id).where(
        Variant.shop_id == shop_id, lookup).limit(1)).scalar()
    if product is None:
        return ()
    rows = db.session.execute(select(Variant.sku, Variant.title).where(
        Variant.shop_id == shop_id, Variant.product_shopify_id == product, Variant.deleted_at.is_(None),
        Variant.sku.is_not(None), Variant.sku != sku).order_by(Variant.id).limit(MAX_LINES)).all()
    return tuple(Option(s, t or s) for s, t in rows if s)


def check(lines: list[FormLine], chosen: list[Chosen], *, kind: str, note: str | None,
          reasons: list[str]) -> None:
    """Raise :class:`RequestError` unless ``chosen`` is a request the form allows."""
    if kind not in KINDS:
        raise RequestError(422, "invalid_kind", "refund or exchange", "kind")
    if note is not None and len(note) > MAX_NOTE:
        raise RequestError(422, "note_too_long", f"the note is at most {MAX_NOTE} characters", "note")
    if not chosen:
        raise RequestError(422, "nothing_chosen", "choose at least one item to return", "quantity")
    offered = {line.key: line for line in lines}
    for item in chosen:
        line = offered.get(item.key)
        if line is None:
            raise RequestError(422, "not_returnable", "that item cannot be returned", f"quantity-{item.key}")
        if not 0 < item.quantity <= line.returnable:
            raise RequestError(422, "too_many", f"at most {line.returnable} can be returned",
                               f"quantity-{item.key}")
        if item.reason not in reasons:
            raise RequestError(422, "unknown_reason", "choose one of the reasons offered", f"reason-{item.key}")
        if kind == "exchange" and item.exchange_sku not in {o.sku for o in line.exchange_options}:
            raise RequestError(422, "invalid_exchange", "choose another variant of the same product",
                               f"exchange-{item.key}")


def checked_lines(shop: Shop, order: Order, chosen: list[Chosen], *, kind: str, note: str | None) -> list[FormLine]:
    """The form's lines as Shopify counts them now, once ``chosen`` is found to be a request they
    allow (else :class:`RequestError`)."""
    lines = form_lines(shop, order)
    check(lines, chosen, kind=kind, note=note, reasons=accepted_reasons(shop.id))
    return lines


def submit(shop: Shop, order: Order, lines: list[FormLine], chosen: list[Chosen], *, kind: str,
           note: str | None) -> int:
    """File the checked request at Shopify and store our row (once); commits. The return's id."""
    by_key = {line.key: line for line in lines}
    try:
        requested = store_for(shop).request_return(order.external_id, [
            ReturnLineInput(by_key[c.key].fulfillment_line_item_id, c.quantity, reason_handle(c.reason),
                            customer_note=note or None) for c in chosen])
    except PermanentError as exc:
        # Shopify counted otherwise (a unit returned meanwhile): the customer sees the form again.
        log.warning("return_form.refused_by_shopify", order_id=order.id, code=exc.code)
        raise RequestError(422, "too_many", "Shopify refused the request", "quantity") from None
    return_id = store_request(shop.id, requested, source="tracking_page")
    ret = db.session.execute(select(Return).where(
        Return.shop_id == shop.id, Return.shopify_return_id == requested.id)).scalar_one()
    if return_id is None:  # the returns/request webhook was quicker: the row is the same request
        ret.source = "tracking_page"
    if kind == "exchange" and ret.status in _CHOICE_OPEN:
        _choose_exchange(ret, requested, by_key, chosen)
    db.session.commit()
    log.info("return_form.requested", shop_id=shop.id, order_id=order.id, return_id=ret.id, kind=kind,
             lines=len(chosen))
    return ret.id


def _choose_exchange(ret: Return, requested: ChannelReturn, by_key: dict[str, FormLine], chosen: list[Chosen]) -> None:
    """Each returned line's replacement SKU, matched through Shopify's fulfillment line item."""
    wanted = {by_key[c.key].fulfillment_line_item_id: c.exchange_sku for c in chosen}
    by_return_line = {line.id: wanted.get(line.fulfillment_line_item_id) for line in requested.lines}
    for row in db.session.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id)).scalars():
        row.exchange_sku = by_return_line.get(row.shopify_line_id) or row.exchange_sku
    ret.kind = "exchange"
