"""Builders for after-sales tests: a shop with a US and a DE warehouse at the WINIT emulator, a
German customer's order shipped from DE, and its return request as Shopify reports it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from integration.domain.channels import ChannelReturn, ChannelReturnLine
from integration.extensions import db
from integration.models import Allocation, OutboundOrder, Shipment
from integration.orders.allocation import outbound_reference
from integration.returns.intake import store_request
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock
from tests.winit_fixtures import winit_credentials

SKU = "MUG-BLUE"


def after_sales_shop(endpoint: str, domain: str = "acme.myshopify.com"):
    shop = make_shop(domain)
    account = make_account(shop, "winit", winit_credentials(), endpoint=endpoint)
    # The US warehouse comes first by the merchant's priority: a German return must still go to DE.
    us = make_warehouse(shop, account, "USWC", "US", region="NA", priority=1, location=f"gid://shopify/Location/{shop.id}1")
    de = make_warehouse(shop, account, "DEWH", "DE", region="EU", location=f"gid://shopify/Location/{shop.id}2")
    set_stock(shop, de, SKU, 10)
    set_stock(shop, us, SKU, 10)
    return shop, account, us, de


def shipped_order(shop, warehouse, external_id: str = "gid://shopify/Order/1001", quantity: int = 2):
    order = make_order(shop, external_id, [(SKU, quantity)], country="DE")
    order.locale, order.lines[0].price = "de", Decimal("12.50")
    outbound = OutboundOrder(shop_id=shop.id, order_id=order.id, warehouse_id=warehouse.id, status="shipped",
                             reference=outbound_reference(order.id, warehouse.id))
    db.session.add(outbound)
    db.session.flush()
    db.session.add(Allocation(shop_id=shop.id, order_id=order.id, order_line_id=order.lines[0].id,
                              warehouse_id=warehouse.id, outbound_id=outbound.id, sku=SKU, quantity=quantity,
                              status="shipped", route_reason="local"))
    shipment = Shipment(shop_id=shop.id, order_id=order.id, outbound_id=outbound.id, tracking_number=f"TN{order.id}",
                        carrier="DHL", lines=[[SKU, quantity]], shipped_at=datetime.now(UTC) - timedelta(days=5),
                        delivered_at=datetime.now(UTC) - timedelta(days=3), status="Delivered")
    db.session.add(shipment)
    db.session.commit()
    return order, outbound, shipment


def request_return(shop, order, number: int = 1, quantity: int = 1, reason: str = "SIZE_TOO_SMALL") -> int | None:
    channel_return = ChannelReturn(
        id=f"gid://shopify/Return/{number}", order_id=order.external_id, status="REQUESTED", name=f"{order.name}-R1",
        lines=(ChannelReturnLine(id=f"gid://shopify/ReturnLineItem/{number}", fulfillment_line_item_id="gid://x/1",
                                 sku=SKU, quantity=quantity, reason=reason),))
    return_id = store_request(shop.id, channel_return)
    db.session.commit()
    return return_id
