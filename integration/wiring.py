"""The one table of "A happened -> run B".

Capabilities announce what happened (:mod:`integration.signals`, sent in the transaction that
stored it) and never call or enqueue another capability's work themselves; this module says who
reacts. Read it top to bottom to follow any flow:

* :data:`RECEIVERS`: for each signal, the receivers in the order they run (in the sender's
  transaction) — and, through :func:`start_job`, the jobs it starts once that transaction commits;
* :data:`HANDLERS`: for each inbound event (source, topic), stored in the inbox by the webhook
  views, the function the ``process_event`` job hands it to.

``create_app`` calls :func:`connect` once per process (web and worker alike).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integration import job_catalog, signals
from integration.extensions import db, queues
from integration.feedback import promises
from integration.inbox import dispatch, shopify_handlers, warehouse_handlers
from integration.insights import dirty as insights_dirty
from integration.loyalty import earning, refunds
from integration.notices import after_sales, triggers
from integration.returns import receipt as return_receipt
from integration.returns import replacements, reships, shopify_events
from integration.shops import catalog_import
from integration.stock import amazon_quantities
from integration.storefront import status as storefront_status


def start_job(queue: str, job_name: str, key: str) -> Callable[..., None]:
    """A receiver that enqueues ``job_name(<the signal's key argument>)`` after the commit: the job
    must see the stored change, and nothing if the change rolled back."""

    def enqueue_after_commit(**kwargs: Any) -> None:
        argument = kwargs[key]
        signals.on_commit(db.session(), lambda: queues.enqueue(queue, job_name, argument))

    enqueue_after_commit.__qualname__ = f"start_job({job_name})"
    return enqueue_after_commit


RECEIVERS: dict[str, tuple[Callable[..., Any], ...]] = {
    # An order stored or changed (Shopify webhook, Amazon import): route it to warehouses and
    # reserve stock (or release it when cancelled); a cancellation takes its points back; the
    # demand series of its warehouses are computed again (debounced).
    signals.ORDER_CHANGED: (
        start_job("sync", job_catalog.SYNC_ORDER, "order_id"),
        earning.on_order_changed,
        insights_dirty.on_order_changed,
    ),
    # The ledger moved: Amazon MFN quantities, the storefront status and the insights (cover,
    # stock-out days, restock suggestions; debounced) follow (Shopify's own stock push is
    # scheduled by the ledger itself, in the same commit hook).
    signals.WAREHOUSE_STOCK_CHANGED: (
        amazon_quantities.on_stock_changed,
        storefront_status.on_stock_changed,
        insights_dirty.on_stock_changed,
    ),
    # A parcel left the warehouse: the "shipped" notice, its points, and the delivery date it
    # promised (kept for the promise-kept rate).
    signals.SHIPMENT_CREATED: (
        triggers.on_shipment_created,
        earning.on_shipment_created,
        promises.on_shipment_created,
    ),
    # A carrier event: the customer's notice for it, points earned on delivery, the day a promise
    # was met or missed; a parcel the carrier lost is reshipped from the local warehouse where the
    # shop's return rules say so.
    signals.SHIPMENT_TRACKING_CHANGED: (
        triggers.on_tracking_changed,
        earning.on_tracking_changed,
        promises.on_tracking_changed,
        reships.on_tracking_changed,
    ),
    # A replacement parcel (an exchange, a reship) left the warehouse: the customer's notice.
    signals.REPLACEMENT_SHIPPED: (replacements.on_replacement_shipped,),
    # An inspected return put units back on a warehouse's shelf: that account's stock is read at
    # once, so the ledger and Shopify count them now, not at the next poll round.
    signals.RETURN_RESTOCKED: (start_job("sync", job_catalog.POLL_INVENTORY, "account_id"),),
    # A new merchant alert: its e-mail to the merchant.
    signals.ALERT_RAISED: (triggers.on_alert_raised,),
    # An order missed its ship-by (the merchant's alert is raised with it): the customer hears of
    # the delay, with a new estimate, once per order and ship-by day.
    signals.SHIP_BY_MISSED: (after_sales.on_ship_by_missed,),
    # A customer's first rating of a delivered order: the loyalty points for feedback.
    signals.FEEDBACK_RECEIVED: (earning.on_feedback,),
    # A shop installed the app (by any path), or changed its settings: its name and currency are
    # read again; an installation's catalog is imported once.
    signals.SHOP_INSTALLED: (start_job("sync", job_catalog.READ_SHOP_PROFILE, "shop_id"),
                             catalog_import.import_after_install),
    signals.SHOP_UPDATED: (start_job("sync", job_catalog.READ_SHOP_PROFILE, "shop_id"),),
    # A 3PL account connected: its stock is read at once, not at the next poll round (an order
    # placed meanwhile would find no stock). A warehouse's settings changed: the storefront's
    # delivery promises are worked out again.
    signals.WAREHOUSE_ACCOUNT_CONNECTED: (start_job("sync", job_catalog.POLL_INVENTORY, "account_id"),),
    signals.WAREHOUSE_SETTINGS_CHANGED: (start_job("sync", job_catalog.REFRESH_SHOP, "shop_id"),),
    # Shopify's own view of stock at a location and of a fulfillment's carrier status: stored and
    # announced; no capability reacts to them today.
    signals.STOCK_CHANGED: (),
    signals.SHIPMENT_STATUS_CHANGED: (),
}

SHOPIFY, WAREHOUSE = "shopify", "warehouse"
HANDLERS: dict[tuple[str, str], dispatch.Handler] = {
    # orders (stored by integration/orders/intake.py, then order_changed above)
    (SHOPIFY, "orders/create"): shopify_handlers.order_received,
    (SHOPIFY, "orders/updated"): shopify_handlers.order_received,
    (SHOPIFY, "orders/cancelled"): shopify_handlers.order_cancelled,
    (SHOPIFY, "fulfillments/create"): shopify_handlers.fulfillment_received,
    (SHOPIFY, "fulfillments/update"): shopify_handlers.fulfillment_received,
    (SHOPIFY, "refunds/create"): refunds.refund_created,
    # returns: a customer's request stored and decided by the rules; the merchant's decision in
    # Shopify's own admin moves our return too (integration/returns/shopify_events.py)
    (SHOPIFY, "returns/request"): shopify_events.return_requested,
    (SHOPIFY, "returns/approve"): shopify_events.return_approved,
    (SHOPIFY, "returns/decline"): shopify_events.return_declined,
    # catalog and stock as Shopify sees them
    (SHOPIFY, "inventory_levels/update"): shopify_handlers.inventory_level_updated,
    (SHOPIFY, "products/update"): shopify_handlers.product_updated,
    (SHOPIFY, "products/delete"): shopify_handlers.product_deleted,
    (SHOPIFY, "locations/create"): shopify_handlers.location_received,
    (SHOPIFY, "locations/update"): shopify_handlers.location_received,
    (SHOPIFY, "locations/delete"): shopify_handlers.location_deleted,
    (SHOPIFY, "bulk_operations/finish"): shopify_handlers.bulk_operation_finished,
    # the app's life and the mandatory privacy topics
    (SHOPIFY, "app/uninstalled"): shopify_handlers.app_uninstalled,
    (SHOPIFY, "shop/update"): shopify_handlers.shop_updated,
    (SHOPIFY, "customers/data_request"): shopify_handlers.customer_data_requested,
    (SHOPIFY, "customers/redact"): shopify_handlers.customer_redact_requested,
    (SHOPIFY, "shop/redact"): shopify_handlers.shop_redact_requested,
    # a warehouse's own webhooks are triggers: the job re-reads the outbound or the stock
    (WAREHOUSE, "outbound"): warehouse_handlers.warehouse_event,
    (WAREHOUSE, "tracking"): warehouse_handlers.warehouse_event,
    (WAREHOUSE, "inventory"): warehouse_handlers.warehouse_event,
    # an RMA moved at the warehouse: the return's job reads it again (integration/returns/receipt.py)
    (WAREHOUSE, "return"): return_receipt.return_event,
}


def connect() -> None:
    """Connect every receiver and register every handler (connecting again is a no-op)."""
    for name, receivers in RECEIVERS.items():
        for receiver in receivers:
            signals.connect(name, receiver)
    for (source, topic), handler in HANDLERS.items():
        dispatch.handles(source, topic)(handler)


def disconnect() -> None:
    """Undo :func:`connect` (tests that need a process without the reactions)."""
    for name, receivers in RECEIVERS.items():
        for receiver in receivers:
            signals.disconnect(name, receiver)
    for source, topic in HANDLERS:
        dispatch.unregister(source, topic)
