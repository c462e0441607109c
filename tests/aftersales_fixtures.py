"""Seeded after-sales rows with hand-counted figures: returns with their reasons, ratings with NPS and
comments, and promised parcels, for a shop with a Berlin (DE) and an LA (US) warehouse.

The hand count, for the week of ``at`` (everything below happens at ``at`` unless said):

* Return reasons, MUG x DE (5 returns, 7 units): SIZE_TOO_SMALL 3 units (2 returns), DEFECTIVE 2 (2),
  COLOR 1 (1), STYLE 1 (1): the top 3 are SIZE_TOO_SMALL, DEFECTIVE, COLOR (COLOR before STYLE by
  name). MUG x US: WRONG_ITEM 3 (1). TENT x DE: DEFECTIVE 1 (1). Five weeks earlier: MUG x DE OTHER 5.
* Ratings: Berlin 5/10, 4/9, 2/3, 3/7 -> average 3.5, NPS (2 - 1) / 4 = 25.0; LA 5/10, 1/0 ->
  average 3.0, NPS 0.0; overall NPS (3 - 2) / 6 = 16.7.
* Promise kept: Berlin 3 of 4 (75.0 %), LA 1 of 2 (50.0 %).
* German comments: "Lieferung" in 3 (2 praise, 1 complaint), "schnell" and "Verpackung" in 2 each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from integration.extensions import db
from integration.models import DeliveryPromise, OutboundOrder, Return, ReturnLine, Shipment, Shop, Warehouse
from integration.models.notification import OrderFeedback
from integration.orders.allocation import outbound_reference
from tests.helpers_warehouse import make_account, make_order, make_warehouse

MUG, TENT = "MUG-BLUE", "TENT-2P"


@dataclass
class Seeded:
    berlin: Warehouse
    la: Warehouse
    returns: dict[str, int]  # order external id -> return id
    old_return: int


def _return(shop: Shop, order, lines: list[tuple[str, int, str]], at: datetime, number: int, warehouse=None) -> int:
    ret = Return(shop_id=shop.id, order_id=order.id, shopify_return_id=f"gid://shopify/Return/{shop.id}{number}",
                 name=f"{order.name}-R1", status="requested", kind="refund", source="customer_account",
                 warehouse_id=warehouse.id if warehouse else None, created_at=at, updated_at=at)
    db.session.add(ret)
    db.session.flush()
    for i, (sku, quantity, reason) in enumerate(lines):
        db.session.add(ReturnLine(return_id=ret.id, shopify_line_id=f"gid://shopify/ReturnLineItem/{ret.id}{i}",
                                  sku=sku, quantity=quantity, reason=reason))
    return ret.id


def seed_aftersales(shop: Shop, at: datetime, *, prefix: str = "") -> Seeded:
    account = make_account(shop)
    berlin = make_warehouse(shop, account, f"{prefix}DEWH", "DE", name=f"{prefix}Berlin")
    la = make_warehouse(shop, account, f"{prefix}USWC", "US", name=f"{prefix}LA West")
    orders = {}
    for key, country, warehouse in (("DE1", "DE", berlin), ("DE2", "DE", berlin), ("DE3", "DE", berlin),
                                    ("DE4", "DE", berlin), ("DE5", "DE", berlin), ("DE6", "DE", berlin),
                                    ("US1", "US", la), ("US2", "US", la)):
        order = make_order(shop, f"gid://shopify/Order/{prefix}{key}", [(MUG, 3)], country=country)
        order.name, order.locale = f"#{prefix}{key}", "de" if country == "DE" else "en"
        db.session.add(OutboundOrder(shop_id=shop.id, order_id=order.id, warehouse_id=warehouse.id, status="shipped",
                                     reference=outbound_reference(order.id, warehouse.id)))
        orders[key] = order
    db.session.flush()

    returns = {
        "DE1": _return(shop, orders["DE1"], [(MUG, 2, "SIZE_TOO_SMALL")], at, 1, berlin),
        "DE2": _return(shop, orders["DE2"], [(MUG, 1, "DEFECTIVE"), (MUG, 1, "SIZE_TOO_SMALL")], at, 2, berlin),
        "DE3": _return(shop, orders["DE3"], [(MUG, 1, "DEFECTIVE")], at, 3, berlin),
        "DE4": _return(shop, orders["DE4"], [(MUG, 1, "COLOR")], at, 4, berlin),
        "DE5": _return(shop, orders["DE5"], [(MUG, 1, "STYLE")], at, 5, berlin),
        "US1": _return(shop, orders["US1"], [(MUG, 3, "WRONG_ITEM")], at, 6, la),
        "DE6": _return(shop, orders["DE6"], [(TENT, 1, "DEFECTIVE")], at, 7, berlin),
    }
    old = _return(shop, orders["DE6"], [(MUG, 5, "OTHER")], at - timedelta(days=35), 8, berlin)

    answers = {"DE1": (5, 10, "Schnelle Lieferung, tolle Verpackung"), "DE2": (4, 9, "Sehr schnelle Lieferung"),
               "DE3": (2, 3, "Verpackung beschädigt, Lieferung langsam"), "DE4": (3, 7, None),
               "US1": (5, 10, "Fast delivery, great mug"), "US2": (1, 0, "Slow delivery")}
    for key, (rating, nps, comment) in answers.items():
        db.session.add(OrderFeedback(shop_id=shop.id, order_id=orders[key].id, email="buyer@example.com",
                                     rating=rating, nps=nps, comment=comment, created_at=at, updated_at=at))

    day = at.date()
    for key, warehouse, late in (("DE1", berlin, False), ("DE2", berlin, False), ("DE3", berlin, True),
                                 ("DE4", berlin, False), ("US1", la, False), ("US2", la, True)):
        order = orders[key]
        outbound = db.session.query(OutboundOrder).filter_by(order_id=order.id).one()
        shipment = Shipment(shop_id=shop.id, order_id=order.id, outbound_id=outbound.id, carrier="DHL",
                            tracking_number=f"{prefix}TN{key}", lines=[[MUG, 3]], status="Delivered",
                            shipped_at=at - timedelta(days=4), delivered_at=at)
        db.session.add(shipment)
        db.session.flush()
        db.session.add(DeliveryPromise(shop_id=shop.id, shipment_id=shipment.id, order_id=order.id,
                                       warehouse_id=warehouse.id, carrier="DHL", country_code=order.shipping_country,
                                       shipped_on=day - timedelta(days=4), promised_by=day,
                                       delivered_on=day + timedelta(days=1) if late else day))
    db.session.commit()
    return Seeded(berlin=berlin, la=la, returns=returns, old_return=old)
