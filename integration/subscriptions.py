"""Who listens to which in-process signal. Connected once per process by create_app."""

from __future__ import annotations

from flask import Flask

from integration.extensions import db, queues
from integration.services import signals


def _order_changed(order_id: int) -> None:
    # After commit: the job must see the stored order, and nothing if the change rolled back.
    signals.on_commit(db.session(), lambda: queues.enqueue("sync", "jobs.warehousing.sync_order", order_id))


def init_app(app: Flask) -> None:
    from integration.services import amazon_stock, loyalty_earning, notifications, storefront

    signals.connect(signals.ORDER_CHANGED, _order_changed)
    signals.connect(signals.WAREHOUSE_STOCK_CHANGED, amazon_stock.on_stock_changed)
    signals.connect(signals.WAREHOUSE_STOCK_CHANGED, storefront.on_stock_changed)
    notifications.connect(app)
    loyalty_earning.connect(app)
