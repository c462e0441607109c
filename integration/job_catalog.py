"""Every RQ job Nearstock enqueues: its name and how its id is built, in one place.

Names are the dotted paths of the job functions in ``jobs/`` (RQ imports a job by name, so the
app never imports ``jobs``: the jobs import the app's capability packages). Ids are deterministic:
``unique=True`` refuses a second copy of work that must happen once, a time window in an id lets
a periodic job run again next round, and the sweepers look up the same ids to tell lost work
from work that is merely waiting — which is why the flow and its sweeper must build them alike.
"""

from __future__ import annotations

# Retry waits (seconds) of a periodic poll: short, since the next cron round asks again anyway;
# a vendor's Retry-After lengthens a wait (jobs/failures.py).
POLL_RETRY = (5, 20, 60)

# -- inbox -----------------------------------------------------------------------------------------
PROCESS_EVENT = "jobs.events.process_event"
PROCESS_EVENTS = "jobs.events.process_events"

# -- orders ----------------------------------------------------------------------------------------
SYNC_ORDER = "jobs.warehousing.sync_order"
PUSH_OUTBOUND = "jobs.warehousing.push_outbound"
CANCEL_OUTBOUND = "jobs.warehousing.cancel_outbound"
POLL_OUTBOUND = "jobs.warehousing.poll_outbound"
CREATE_FULFILLMENT = "jobs.warehousing.create_fulfillment"
PUSH_FULFILLMENT_EVENT = "jobs.warehousing.push_fulfillment_event"

# -- stock -----------------------------------------------------------------------------------------
POLL_INVENTORY = "jobs.stock.poll_inventory"
PUSH_SHOPIFY_STOCK = "jobs.stock.push_shopify_stock"
RECONCILE_SHOP = "jobs.stock.reconcile_shop"

# -- Amazon ----------------------------------------------------------------------------------------
IMPORT_AMAZON_ORDERS = "jobs.amazon.import_orders"
PUSH_AMAZON_QUANTITIES = "jobs.amazon.push_quantities"
CONFIRM_AMAZON_SHIPMENT = "jobs.amazon.confirm_shipment"

# -- shops -----------------------------------------------------------------------------------------
READ_SHOP_PROFILE = "jobs.shopify.read_shop_profile"
START_IMPORT = "jobs.shopify.start_import"
CHECK_IMPORT = "jobs.shopify.check_import"
PROCESS_BULK_FINISH = "jobs.shopify.process_bulk_finish"

# -- storefront ------------------------------------------------------------------------------------
REFRESH_STATUSES = "jobs.storefront.refresh_statuses"
REFRESH_SHOP = "jobs.storefront.refresh_shop"

# -- notices ---------------------------------------------------------------------------------------
SEND_NOTIFICATION = "jobs.notify.send_notification"
SEND_NOTIFICATIONS = "jobs.notify.send_notifications"

# -- loyalty ---------------------------------------------------------------------------------------
EARN_FOR_SHIPMENT = "jobs.loyalty.earn_for_shipment"
RECONCILE_LOYALTY_ORDER = "jobs.loyalty.reconcile_order"
ISSUE_REWARD = "jobs.loyalty.issue_reward"
REEVALUATE_SHOP = "jobs.loyalty.reevaluate_shop"

# -- insights --------------------------------------------------------------------------------------
COMPUTE_INSIGHTS = "jobs.insights.compute_insights"
CREATE_INBOUND = "jobs.inbound.create_inbound"
POLL_INBOUND = "jobs.inbound.poll_inbound"
CANCEL_INBOUND = "jobs.inbound.cancel_inbound"
EVALUATE_GATES = "jobs.gates.evaluate_shop_gates"
SEND_STOCK_DIGESTS = "jobs.sensing.send_stock_digests"

# -- returns ---------------------------------------------------------------------------------------
SEND_AFTERSALES_DIGESTS = "jobs.aftersales.send_aftersales_digests"
APPROVE_RETURN = "jobs.returns.approve_return"
DECLINE_RETURN = "jobs.returns.decline_return"
POLL_RETURN = "jobs.returns.poll_return"
SETTLE_RETURN = "jobs.returns.settle_return"
RESHIP_LOST_PARCEL = "jobs.returns.reship_lost_parcel"


# -- ids: inbox ------------------------------------------------------------------------------------

def process_event_id(event_id: int) -> str:
    """One stored webhook's own job (alone, or after failing inside a batch job)."""
    return f"event-{event_id}"


def process_events_id(token: str) -> str:
    """The one job of the webhooks written together by a group commit."""
    return f"events-{token}"


# -- ids: orders -----------------------------------------------------------------------------------

def push_outbound_id(outbound_id: int) -> str:
    return f"push-outbound-{outbound_id}"


def cancel_outbound_id(outbound_id: int) -> str:
    return f"cancel-outbound-{outbound_id}"


def poll_outbound_id(outbound_id: int) -> str:
    return f"poll-outbound-{outbound_id}"


def fulfill_id(shipment_id: int) -> str:
    return f"fulfill-{shipment_id}"


def fulfillment_event_id(row_id: int) -> str:
    return f"fulfillment-event-{row_id}"


def fulfillment_event_after_fulfillment_id(row_id: int) -> str:
    """The event's second chance: enqueued once the fulfillment it was waiting for exists."""
    return f"fulfillment-event-{row_id}-after"


def sweep_id(job_name: str, item_id: int) -> str:
    """The warehouse sweeper's copy of a lost order-flow job (one per item at a time)."""
    return f"{job_name.rsplit('.', 1)[1]}-{item_id}-sweep"


# -- ids: stock ------------------------------------------------------------------------------------

def poll_inventory_id(account_id: int, window: int) -> str:
    return f"poll-inventory-{account_id}-{window}"


def poll_inventory_more_id(account_id: int, at: int) -> str:
    """The next page of a backlog, at once rather than at the next cron tick."""
    return f"poll-inventory-{account_id}-more-{at}"


def poll_inventory_webhook_id(account_id: int, event_id: int) -> str:
    """A warehouse's own "inventory changed" webhook."""
    return f"poll-inventory-{account_id}-{event_id}"


def push_stock_id(shop_id: int, seq: int) -> str:
    return f"push-stock-{shop_id}-{seq}"


def reconcile_stock_id(shop_id: int, day: int) -> str:
    return f"reconcile-stock-{shop_id}-{day}"


# -- ids: Amazon -----------------------------------------------------------------------------------

def amazon_confirm_id(shipment_id: int) -> str:
    return f"amazon-confirm-{shipment_id}"


def amazon_orders_id(account_id: int, window: int) -> str:
    return f"amazon-orders-{account_id}-{window}"


def amazon_orders_on_connect_id(account_id: int, nonce: str) -> str:
    return f"amazon-orders-{account_id}-connect-{nonce[:16]}"


def amazon_push_id(shop_id: int, seq: int) -> str:
    return f"amazon-push-{shop_id}-{seq}"


def amazon_push_full_id(shop_id: int, day: str) -> str:
    return f"amazon-push-full-{shop_id}-{day}"


# -- ids: shops ------------------------------------------------------------------------------------

def import_id(shop_id: int, run: int | str) -> str:
    return f"import-{shop_id}-{run}"


def check_import_id(run_id: int, attempt: int) -> str:
    return f"import-check-{run_id}-{attempt}"


def bulk_finish_id(bulk_operation_number: str) -> str:
    return f"bulk-finish-{bulk_operation_number}"


# -- ids: storefront -------------------------------------------------------------------------------

def refresh_statuses_id(shop_id: int, seq: int) -> str:
    return f"storefront-status-{shop_id}-{seq}"


def refresh_shop_id(shop_id: int, window: int) -> str:
    return f"storefront-all-{shop_id}-{window}"


def refresh_shop_edit_id(shop_id: int, seq: int) -> str:
    return f"storefront-all-{shop_id}-e{seq}"


# -- ids: notices ----------------------------------------------------------------------------------

def send_notification_id(notification_id: int, suffix: str = "") -> str:
    return f"notify-{notification_id}{suffix}"


def send_notifications_id(first_id: int, last_id: int) -> str:
    return f"notify-batch-{first_id}-{last_id}"


# -- ids: loyalty ----------------------------------------------------------------------------------

def earn_id(shipment_id: int, why: str) -> str:
    return f"loyalty-earn-{shipment_id}-{why}"


def loyalty_order_cancelled_id(order_id: int) -> str:
    return f"loyalty-order-{order_id}-cancelled"


def issue_reward_id(reward_id: int, suffix: str = "") -> str:
    return f"loyalty-reward-{reward_id}{suffix}"


# -- ids: insights ---------------------------------------------------------------------------------

def create_inbound_id(inbound_id: int) -> str:
    return f"create-inbound-{inbound_id}"


def poll_inbound_id(inbound_id: int) -> str:
    return f"poll-inbound-{inbound_id}"


def cancel_inbound_id(inbound_id: int) -> str:
    return f"cancel-inbound-{inbound_id}"


def compute_insights_id(shop_id: int, seq: int) -> str:
    """The debounced incremental run after changes (one pending per shop: see insights.dirty)."""
    return f"insights-{shop_id}-{seq}"


def compute_all_insights_id(shop_id: int, day: int) -> str:
    """The nightly run of every series of a shop, once per day."""
    return f"insights-all-{shop_id}-{day}"


def evaluate_gates_id(shop_id: int, day: int) -> str:
    """One evaluation of a shop's test-sale gates per day (``day``: days since the epoch)."""
    return f"evaluate-gates-{shop_id}-{day}"


# -- ids: returns ----------------------------------------------------------------------------------

def approve_return_id(return_id: int) -> str:
    return f"return-approve-{return_id}"


def decline_return_id(return_id: int) -> str:
    return f"return-decline-{return_id}"


def poll_return_id(return_id: int) -> str:
    return f"return-poll-{return_id}"


def poll_return_webhook_id(return_id: int, event_id: int) -> str:
    """A warehouse's own "return changed" webhook."""
    return f"return-poll-{return_id}-{event_id}"


def settle_return_id(return_id: int) -> str:
    return f"return-settle-{return_id}"


def reship_lost_id(shipment_id: int) -> str:
    """The one automatic reship of a parcel the carrier marked lost."""
    return f"reship-lost-{shipment_id}"
