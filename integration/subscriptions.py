"""Who listens to which in-process signal. Connected once per process by create_app."""

from __future__ import annotations

from flask import Flask

from integration import signals
from integration.extensions import db, queues


def _order_changed(order_id: int) -> None:
    # After commit: the job must see the stored order, and nothing if the change rolled back.
    signals.on_commit(db.session(), lambda: queues.enqueue("sync", "jobs.warehousing.sync_order", order_id))


def init_app(app: Flask) -> None:
    from integration.loyalty import earning
    from integration.notices import outbox
    from integration.stock import amazon_quantities
    from integration.storefront import status

    signals.connect(signals.ORDER_CHANGED, _order_changed)
    signals.connect(signals.WAREHOUSE_STOCK_CHANGED, amazon_quantities.on_stock_changed)
    signals.connect(signals.WAREHOUSE_STOCK_CHANGED, status.on_stock_changed)
    outbox.connect(app)
    earning.connect(app)
