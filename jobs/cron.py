"""Periodic jobs, declared once, run by ``python -m jobs.cron_runner`` (the Procfile's ``cron``).

Each entry is a job function taking no arguments; the functions re-read state, so a run that is
skipped or doubled (two cron processes during a deploy) does no harm.

``NEARSTOCK_CRON_SPEEDUP`` (never in production) divides every interval, so a demo or the chaos
test (tests/e2e/test_chaos.py) runs this very schedule, compressed; the nightly ``cron=`` entries
keep their wall-clock times.
"""

from rq import cron

from integration.config import cron_speedup
from jobs import (
    aftersales,
    amazon,
    events,
    gates,
    inbound,
    insights,
    loyalty,
    notify,
    recovery,
    returns,
    sensing,
    shopify,
    stock,
    storefront,
    warehousing,
)

SPEEDUP = cron_speedup()


def every(seconds: int) -> int:
    """An interval of the production schedule, compressed by the speed-up (one second at least)."""
    return max(1, seconds // SPEEDUP)


# Jobs a dead worker left half-way in Redis (a retry never scheduled, a job registered but never
# started, abandoned "started" jobs) and retries waiting for a scheduler that died: see
# jobs/recovery.py. On the first queue: it must not wait behind the backlog it is there to free.
cron.register(recovery.heal_queues, queue_name="events", interval=every(60))
# Inbox safety net: events stored but never processed (lost enqueue, killed worker).
cron.register(events.sweep_stale_events, queue_name="low", interval=every(300))
# Refresh tokens lapse after 90 days without use: keep idle shops connected.
cron.register(shopify.refresh_expiring_tokens, queue_name="low", interval=every(3600))
# Outbound orders: pushes lost between commit and enqueue, shipments of providers that do not
# push them, and the handling-time promise.
cron.register(warehousing.sweep_warehouse_work, queue_name="low", interval=every(300))
cron.register(warehousing.poll_open_outbounds, queue_name="low", interval=every(600))
cron.register(warehousing.check_sla, queue_name="low", interval=every(900))
# Inbound shipments (first leg): followed at the warehouse until received; lost creates re-sent.
cron.register(inbound.follow_open_inbounds, queue_name="low", interval=every(1800))
# Returns: RMAs followed at the warehouse until inspected; decided, declined or inspected returns
# whose job was lost are run again.
cron.register(returns.follow_returns, queue_name="low", interval=every(900))
# Stock: warehouse inventory every minute (cursor polling; webhooks where offered), and the
# nightly reconciliation that heals drift on both sides.
cron.register(stock.poll_all_inventory, queue_name="sync", interval=every(60))
cron.register(stock.reconcile_all, queue_name="low", cron="30 3 * * *")
# Amazon: orders by cursor, shipment confirmations left behind, the data-protection erasure of
# buyer addresses 30 days after delivery, and a daily full quantity push.
cron.register(amazon.import_all, queue_name="sync", interval=every(300))
cron.register(amazon.confirm_pending, queue_name="low", interval=every(300))
cron.register(amazon.erase_addresses, queue_name="low", interval=every(86400))
cron.register(amazon.push_all_quantities, queue_name="low", interval=every(86400))
# Notices: claims left behind by a dead worker, merchant alerts by e-mail, "shipped" for new
# parcels, and "still on its way" for parcels with no carrier event for days.
cron.register(notify.sweep_notifications, queue_name="low", interval=every(60))
cron.register(notify.email_new_alerts, queue_name="notify", interval=every(60))
cron.register(notify.notify_new_shipments, queue_name="notify", interval=every(120))
cron.register(notify.notify_quiet_shipments, queue_name="low", interval=every(3600))
# Storefront: stock statuses dirtied but never refreshed, and a nightly full refresh.
cron.register(storefront.sweep_dirty, queue_name="low", interval=every(300))
cron.register(storefront.refresh_all_shops, queue_name="low", cron="45 3 * * *")
# Insights: every series nightly (after the stock reconciliation), and dirty series whose
# debounced run was lost.
cron.register(insights.compute_all_shops, queue_name="low", cron="15 4 * * *")
cron.register(insights.sweep_dirty, queue_name="low", interval=every(900))
# Loyalty: earnings left behind, lot expiry, unused reward codes past expiry (points returned),
# reward codes whose job was lost, member-day codes, birthdays, monthly tier roll.
cron.register(loyalty.sweep_unearned, queue_name="low", interval=every(600))
cron.register(loyalty.expire_points, queue_name="low", interval=every(3600))
cron.register(loyalty.close_expired_rewards, queue_name="low", interval=every(3600))
cron.register(loyalty.requeue_pending_rewards, queue_name="low", interval=every(600))
cron.register(loyalty.member_days, queue_name="low", interval=every(3600))
cron.register(loyalty.birthdays, queue_name="low", interval=every(21600))
cron.register(loyalty.roll_tiers, queue_name="low", cron="15 0 1 * *")
# Insights: test-sale gates still testing, re-evaluated daily from Shopify's analytics.
cron.register(gates.evaluate_all_gates, queue_name="low", cron="20 4 * * *")
# Insights: the daily stock digest (low-stock and stock-out alerts by days of cover), once a day
# per shop (the outbox's unique subject holds it to one even when this runs twice).
cron.register(sensing.send_stock_digests, queue_name="notify", cron="0 6 * * *")
# After-sales: last week's digest (return reasons, NPS, promise-kept, comment themes), Mondays,
# once per shop and week (the outbox's unique subject holds it to one when this runs twice).
cron.register(aftersales.send_aftersales_digests, queue_name="notify", cron="0 7 * * 1")
