"""Periodic jobs, declared once, for ``rq cron jobs.cron`` (see the Procfile).

Each entry is a job function taking no arguments; the functions re-read state, so a run that is
skipped or doubled (two cron processes during a deploy) does no harm.
"""

from rq import cron

from jobs import events, shopify, stock, warehousing

# Inbox safety net: events stored but never processed (lost enqueue, killed worker).
cron.register(events.sweep_stale_events, queue_name="low", interval=300)
# Refresh tokens lapse after 90 days without use: keep idle shops connected.
cron.register(shopify.refresh_expiring_tokens, queue_name="low", interval=3600)
# Outbound orders: pushes lost between commit and enqueue, shipments of providers that do not
# push them, and the handling-time promise.
cron.register(warehousing.sweep_warehouse_work, queue_name="low", interval=300)
cron.register(warehousing.poll_open_outbounds, queue_name="sync", interval=600)
cron.register(warehousing.check_sla, queue_name="low", interval=900)
# Stock: warehouse inventory every minute (cursor polling; webhooks where offered), and the
# nightly reconciliation that heals drift on both sides.
cron.register(stock.poll_all_inventory, queue_name="sync", interval=60)
cron.register(stock.reconcile_all, queue_name="low", cron="30 3 * * *")
