"""WINIT through the service layer: an outbound status our table does not know raises one merchant
alert however often the order is polled and ships nothing; a split order keeps every number."""

from __future__ import annotations

from sqlalchemy import select

from integration.domain.orders import Address
from integration.domain.warehousing import Line, OutboundRequest
from integration.extensions import db
from integration.models import Alert, OutboundOrder, Shipment
from integration.models.allocation import OutboundState
from integration.orders import outbound as outbound_service
from integration.warehouses.providers import provider_for
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse
from tests.winit_fixtures import winit_credentials


def pushed(emulator, reference: str, *lines: tuple[str, int]):
    """An outbound order row in state pushed, and the order it stands for created at the emulator."""
    shop = make_shop()
    account = make_account(shop, "winit", winit_credentials(), endpoint=emulator.url)
    warehouse = make_warehouse(shop, account, "DEWH", "DE")
    order = make_order(shop, "gid://shopify/Order/1", list(lines))
    row = OutboundOrder(shop_id=shop.id, order_id=order.id, warehouse_id=warehouse.id, reference=reference,
                        status=OutboundState.PUSHED)
    db.session.add(row)
    db.session.commit()
    created = provider_for(account).create_outbound(OutboundRequest(
        reference, "DEWH", Address(name="Ada", address1="Hauptstr. 1", city="Berlin", zip="10115", country_code="DE"),
        tuple(Line(sku, qty) for sku, qty in lines)))
    return row.id, created


def test_an_unknown_outbound_status_raises_one_alert_and_ships_nothing(app, winit_emulator):
    outbound_id, created = pushed(winit_emulator, "NS-ODD-1", ("MUG-BLUE", 1))
    winit_emulator.sim.advance(3 * 3600)  # picked and handed to the carrier: a tracking number exists
    winit_emulator.actions.status_override[created.external_id] = "QZ"  # a status WINIT added later

    for _ in range(2):
        assert outbound_service.poll_outbound(outbound_id) == OutboundState.PUSHED
        db.session.commit()

    alerts = db.session.execute(select(Alert).where(Alert.kind == "warehouse_unknown_value")).scalars().all()
    assert len(alerts) == 1
    assert alerts[0].details == {"system": "winit", "field": "outbound.status", "value": "QZ", "context": "NS-ODD-1"}
    db.session.expire_all()
    polled = db.session.get(OutboundOrder, outbound_id)
    assert polled.status == OutboundState.PUSHED and polled.shipped_at is None
    assert db.session.execute(select(Shipment)).scalars().all() == []
    winit_emulator.actions.status_override.clear()  # the same order under a known status ships
    assert outbound_service.poll_outbound(outbound_id) == OutboundState.SHIPPED


def test_a_split_order_keeps_every_winit_number(app, winit_emulator):
    winit_emulator.actions.split_zones.update({"MUG-BLUE": "A", "TEE-M": "B"})
    outbound_id, created = pushed(winit_emulator, "NS-SPLIT-1", ("MUG-BLUE", 1), ("TEE-M", 1))
    assert len(created.external_ids) == 2
    winit_emulator.sim.advance(3 * 3600)
    assert outbound_service.poll_outbound(outbound_id) == OutboundState.SHIPPED
    db.session.expire_all()
    row = db.session.get(OutboundOrder, outbound_id)
    assert row.external_ids == list(created.external_ids)
    assert len(db.session.execute(select(Shipment)).scalars().all()) == 2  # one parcel per WINIT order
