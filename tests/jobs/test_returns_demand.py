"""A replacement parcel (an exchange's new item, a reship) is no sale: the demand history the
forecasts read and the stock page's daily sales count the order's units once, not again."""

from __future__ import annotations

from integration.extensions import db
from integration.insights import demand
from integration.orders.allocation import allocate_replacement
from integration.stock import daily
from tests.returns_support import SKU, after_sales_shop, shipped_order


def test_replacement_units_are_not_counted_as_sales(app, winit_emulator):
    shop, _account, _us, de = after_sales_shop(winit_emulator.url)
    order, _outbound, _shipment = shipped_order(shop, de, quantity=2)
    day = (order.external_created_at or order.created_at).date()

    def sold() -> tuple[int, int]:
        rows = demand.compute(shop.id, day, day, today=day)
        history = daily.history(shop.id, SKU, [de.id], 1, until=day)
        return rows.get((de.id, SKU, day), (0,))[0], history.sold[de.id][0]

    assert sold() == (2, 2)
    reship = allocate_replacement(order.id, de.id, [(order.lines[0].id, SKU, 2)], purpose="reship:1", tag="S1")
    exchange = allocate_replacement(order.id, de.id, [(order.lines[0].id, SKU, 1)], purpose="return:1", tag="R1")
    assert reship and exchange and reship != exchange
    db.session.expire_all()
    assert sold() == (2, 2)
