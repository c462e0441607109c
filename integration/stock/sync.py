"""The stock sync engine (architecture flow 3): warehouse counts -> ledger -> Shopify.

Entry points for the rest of the code (the implementation is split by step):

* :func:`apply_stock` / :func:`apply_account_stock` (:mod:`stock_ledger`): store provider counts,
  from a poll page, a provider webhook (``WarehouseEvent.stock``) or the reconciliation.
* :func:`ledger_changed` (:mod:`stock_push`): any writer of on_hand/reserved (allocation, release,
  shipments) calls it so the SKUs are pushed and the ``warehouse_stock_changed`` signal goes out
  after its commit.
* :func:`push_shopify_stock` (:mod:`stock_push`): the coalesced push job's body.
* :func:`reconcile` (:mod:`stock_reconcile`): the nightly full comparison.
* :func:`poll_inventory` (here): one account's changes since its stored cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from redis.exceptions import LockError
from sqlalchemy import select

from integration.domain.warehousing import Capability
from integration.extensions import db, redis
from integration.models import Shop, ShopStatus, SyncCursor, WarehouseAccount
from integration.models.base import utcnow
from integration.models.upsert import upsert
from integration.stock.ledger import (
    MAX_QUANTITY,
    ApplyResult,
    Rejection,
    apply_account_stock,
    apply_stock,
)
from integration.stock.push import (
    PushStats,
    ledger_changed,
    push_shopify_stock,
    schedule_push,
    sweep_dirty,
)
from integration.stock.reconcile import ReconcileStats, reconcile
from integration.warehouses.providers import provider_for

__all__ = [
    "MAX_QUANTITY",
    "ApplyResult",
    "PollResult",
    "PushStats",
    "ReconcileStats",
    "Rejection",
    "apply_account_stock",
    "apply_stock",
    "inventory_stream",
    "ledger_changed",
    "poll_inventory",
    "push_shopify_stock",
    "reconcile",
    "schedule_push",
    "sweep_dirty",
]

log = structlog.get_logger(__name__)

MAX_PAGES = 50  # per job run; a longer backlog continues in the next job
POLL_LOCK_TTL = 900


@dataclass
class PollResult:
    status: str  # polled, busy, skipped
    pages: int = 0
    records: int = 0
    changed: int = 0
    rejected: int = 0
    more: bool = False  # stopped at MAX_PAGES with pages left: poll again soon


def inventory_stream(account_id: int) -> str:
    return f"inventory:{account_id}"


def load_cursor(shop_id: int, stream: str) -> str | None:
    position = db.session.execute(
        select(SyncCursor.position).where(SyncCursor.shop_id == shop_id, SyncCursor.stream == stream)
    ).scalar_one_or_none()
    return position or None


def save_cursor(shop_id: int, stream: str, position: str | None) -> None:
    """Store the provider's next cursor, None included (stored as ""): for some providers None
    means "pass complete, start the next one from the top", and coming back with it is how they
    learn the last page was processed."""
    upsert(SyncCursor, {"shop_id": shop_id, "stream": stream}, {"position": position or "", "updated_at": utcnow()})


def poll_inventory(account_id: int, *, max_pages: int = MAX_PAGES) -> PollResult:
    """Read the account's inventory changes since the stored cursor, page by page. Each page's
    records and the cursor after it commit in ONE transaction: a crash before the commit replays
    the page (counts are absolute and stamped, so a replay changes nothing twice); a crash after
    it resumes from the next page."""
    account = db.session.get(WarehouseAccount, account_id)
    if account is None or not account.active:
        return PollResult("skipped")
    shop = db.session.get(Shop, account.shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        return PollResult("skipped")
    provider = provider_for(account)
    if Capability.INVENTORY_CURSOR not in provider.capabilities:
        # Providers that push inventory reach apply_account_stock from their webhook handler;
        # the nightly reconciliation covers the rest.
        return PollResult("skipped")
    lock = redis.client.lock(f"nearstock:stock:poll-lock:{account_id}", timeout=POLL_LOCK_TTL, blocking_timeout=0)
    if not lock.acquire():
        return PollResult("busy")  # another job is polling this account; it will reach the end
    result = PollResult("polled")
    stream = inventory_stream(account_id)
    try:
        cursor = load_cursor(account.shop_id, stream)
        db.session.commit()  # no transaction open while the provider answers
        while result.pages < max_pages:
            read_at = utcnow()
            page = provider.inventory_changes(cursor)
            applied = apply_account_stock(account_id, page.records, as_of=read_at, commit=False)
            save_cursor(account.shop_id, stream, page.next_cursor)
            db.session.commit()
            result.pages += 1
            result.records += len(page.records)
            result.changed += len(applied.changed)
            result.rejected += len(applied.rejected)
            if not page.has_more or not page.next_cursor or page.next_cursor == cursor:
                break
            cursor = page.next_cursor
        else:
            result.more = True
    except BaseException:
        db.session.rollback()
        raise
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("stock.poll_lock_expired", account_id=account_id)
    log.info("stock.polled", account_id=account_id, pages=result.pages, records=result.records,
             changed=result.changed, rejected=result.rejected, more=result.more)
    return result
