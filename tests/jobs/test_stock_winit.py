"""The stock engine with a real provider connector: WINIT (its emulator) -> ledger -> Shopify."""

from __future__ import annotations

import json

from sqlalchemy import select

from integration.extensions import db
from integration.models import Alert, SyncCursor
from integration.stock import reconcile, sync
from tests.jobs.stock_stack import SKUS, stack_fixture  # noqa: F401
from tests.winit_fixtures import winit_credentials


def test_winit_counts_reach_shopify_by_reconciliation_and_by_polling(stack, winit_emulator):
    s = stack
    s.account.credentials = json.dumps(winit_credentials())
    s.account.endpoint = winit_emulator.url
    s.fr.code = "USWC"  # WINIT's second warehouse stands in for the Lyon location here
    db.session.commit()
    for i, sku in enumerate(SKUS):
        winit_emulator.sim.add_sku(sku, title=sku)
        winit_emulator.sim.set_stock("DEWH", sku, 10 + i)
        winit_emulator.sim.set_stock("USWC", sku, i)

    stats = reconcile.reconcile(s.shop.id, page_size=4, bulk_interval=0.05)
    assert [s.ledger(s.de, sku).on_hand for sku in SKUS] == [10, 11, 12, 13, 14, 15]
    assert [s.ledger(s.fr, sku).on_hand for sku in SKUS] == [0, 1, 2, 3, 4, 5]
    assert [s.shopify(sku, s.berlin) for sku in SKUS] == [10, 11, 12, 13, 14, 15]
    assert [s.shopify(sku, s.lyon) for sku in SKUS] == [0, 1, 2, 3, 4, 5]
    # WINIT also stocks mugs the shop does not sell online: rejected once, one alert, rest synced.
    assert stats.ledger_rejected == 5  # MUG-BLUE, MUG-RED, TEE-M at DEWH; the mugs at USWC
    alert = db.session.execute(select(Alert).where(Alert.kind == "stock_unknown_sku",
                                                   Alert.subject == f"warehouse:{s.de.id}")).scalar_one()
    assert "MUG-BLUE" in alert.details["skus"]

    first = sync.poll_inventory(s.account.id)  # first poll: a week of ledger rows, all known
    assert first.status == "polled" and first.changed == 0
    winit_emulator.sim.set_stock("DEWH", "SKU-2", 42)
    second = sync.poll_inventory(s.account.id)
    assert second.changed == 1
    cursor = db.session.execute(select(SyncCursor.position)).scalar_one()
    assert cursor  # WINIT always returns one: stored for the next poll
    s.worker.run()
    assert s.ledger(s.de, "SKU-2").on_hand == 42 and s.shopify("SKU-2", s.berlin) == 42


def test_frozen_units_never_reach_a_sales_channel(stack, winit_emulator):
    s = stack
    s.account.credentials = json.dumps(winit_credentials())
    s.account.endpoint = winit_emulator.url
    s.fr.code = "USWC"
    db.session.commit()
    winit_emulator.sim.add_sku("SKU-1", title="SKU-1")
    winit_emulator.sim.set_stock("DEWH", "SKU-1", 10)
    winit_emulator.actions.frozen[("DEWH", "SKU-1")] = 6  # qtyFrozen 6 of inStockQty 10

    reconcile.reconcile(s.shop.id, page_size=4, bulk_interval=0.05)
    assert s.ledger(s.de, "SKU-1").on_hand == 4  # sellable (qtyAvailable + qtyWaitOut), not inStockQty
    assert s.shopify("SKU-1", s.berlin) == 4
