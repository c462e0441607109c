"""In-process signals: a capability announces that stored state changed; others react.

    signals.order_changed(order_id)     # in the service that wrote the order

Who reacts to which signal, and which jobs each starts, is one table: :mod:`integration.wiring`
(connected once per process by ``create_app``). The signals (keyword arguments in brackets):

``order_changed`` (order_id)
    An Order row or its lines were inserted or changed (import, update, cancellation). Not sent
    when an older copy of the order was ignored.
``stock_changed`` (shop_id, inventory_item_id, location_id, available)
    A newer copy of Shopify's available quantity of an inventory item at a location was stored
    (ids are gids; the number may equal the previous one).
``shipment_tracking_changed`` (shipment_id, status, reason)
    A parcel shipped from one of our warehouses reached a new normalised tracking status
    (``TrackingStatus`` value, ``ExceptionReason`` value or None).
``shipment_created`` (shipment_id)
    A parcel left one of our warehouses (sent in the transaction that records it).
``alert_raised`` (alert_id)
    A new merchant alert was recorded (in the caller's transaction).
``ship_by_missed`` (outbound_id, noticed_at)
    An outbound order was found not shipped by its ship-by (``sla_due_at``), once per outbound
    order, in the transaction that records the merchant's alert for it.
``warehouse_stock_changed`` (shop_id, skus)
    The stock ledger (on hand or reserved) of these SKUs changed and is committed (sent after
    commit by :func:`integration.stock.push.ledger_changed`).
``replacement_shipped`` (shipment_id, purpose)
    A replacement parcel (an exchange, a reship; ``purpose`` is its outbound's, "return:<id>" or
    "reship:<id>") left one of our warehouses; sent instead of ``shipment_created``.
``return_restocked`` (shop_id, account_id)
    A warehouse of this 3PL account put returned units back on its shelf (in the transaction that
    records the inspection).
``shipment_status_changed`` (fulfillment_id, shipment_status)
    A Shopify fulfillment's carrier status, as Shopify reports it, changed (``in_transit``,
    ``delivered``…; fulfillment_id is our Fulfillment row).
``feedback_received`` (shop_id, order_id, rating)
    A customer rated a delivered order for the first time (in the transaction that stores it).
``shop_installed`` (shop_id)
    A shop installed the app, or installed it again (in the transaction that stores its tokens).
``shop_updated`` (shop_id)
    Shopify reported that an installed shop's settings (name, currency…) changed.
``warehouse_account_connected`` (account_id)
    A 3PL account was connected and its warehouses imported (in the transaction that stores it).
``warehouse_settings_changed`` (shop_id)
    The merchant changed what routing and delivery promises read of a warehouse or an account
    (country, transit, handling time, priority, active…), or the shop's safety stock, channel
    buffers or low-stock threshold, in the transaction that stores it.

Receivers run synchronously, in the sender's thread and database transaction: what they write
commits or rolls back with the sender's change, and an exception propagates to the sender (a
webhook handler then rolls back and its event is retried, so receivers must be idempotent).
A receiver that hands work to another process must not enqueue it before the transaction commits
(the job could read the old state, or run for a change that is rolled back): wrap the enqueue in
:func:`on_commit`. Sending a signal nobody listens to does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

ORDER_CHANGED = "order_changed"
STOCK_CHANGED = "stock_changed"
SHIPMENT_STATUS_CHANGED = "shipment_status_changed"
SHIPMENT_TRACKING_CHANGED = "shipment_tracking_changed"
WAREHOUSE_STOCK_CHANGED = "warehouse_stock_changed"
SHIPMENT_CREATED = "shipment_created"
REPLACEMENT_SHIPPED = "replacement_shipped"
RETURN_RESTOCKED = "return_restocked"
ALERT_RAISED = "alert_raised"
SHIP_BY_MISSED = "ship_by_missed"
FEEDBACK_RECEIVED = "feedback_received"
SHOP_INSTALLED = "shop_installed"
SHOP_UPDATED = "shop_updated"
WAREHOUSE_ACCOUNT_CONNECTED = "warehouse_account_connected"
WAREHOUSE_SETTINGS_CHANGED = "warehouse_settings_changed"
SIGNALS = frozenset({ORDER_CHANGED, STOCK_CHANGED, SHIPMENT_STATUS_CHANGED, SHIPMENT_TRACKING_CHANGED,
                     WAREHOUSE_STOCK_CHANGED, SHIPMENT_CREATED, REPLACEMENT_SHIPPED, RETURN_RESTOCKED, ALERT_RAISED,
                     SHIP_BY_MISSED, FEEDBACK_RECEIVED, SHOP_INSTALLED, SHOP_UPDATED, WAREHOUSE_ACCOUNT_CONNECTED,
                     WAREHOUSE_SETTINGS_CHANGED})

log = structlog.get_logger(__name__)

Receiver = Callable[..., Any]
_receivers: dict[str, list[Receiver]] = {name: [] for name in SIGNALS}
_lock = threading.Lock()
_ON_COMMIT = "nearstock.on_commit"


def connect(name: str, receiver: Receiver) -> Receiver:
    """Subscribe ``receiver`` to ``name``; connecting it again is a no-op. Returns ``receiver``."""
    _check(name)
    with _lock:
        if receiver not in _receivers[name]:
            _receivers[name] = [*_receivers[name], receiver]
    return receiver


def disconnect(name: str, receiver: Receiver) -> None:
    _check(name)
    with _lock:
        _receivers[name] = [r for r in _receivers[name] if r != receiver]


def receivers(name: str) -> tuple[Receiver, ...]:
    _check(name)
    return tuple(_receivers[name])


def send(name: str, **kwargs: Any) -> list[Any]:
    """Call every receiver of ``name`` with ``kwargs``, in connection order; returns their results."""
    _check(name)
    return [receiver(**kwargs) for receiver in _receivers[name]]


def order_changed(order_id: int) -> None:
    send(ORDER_CHANGED, order_id=order_id)


def stock_changed(shop_id: int, inventory_item_id: str, location_id: str, available: int) -> None:
    send(STOCK_CHANGED, shop_id=shop_id, inventory_item_id=inventory_item_id, location_id=location_id,
         available=available)


def shipment_status_changed(fulfillment_id: int, shipment_status: str | None) -> None:
    send(SHIPMENT_STATUS_CHANGED, fulfillment_id=fulfillment_id, shipment_status=shipment_status)


def shipment_tracking_changed(shipment_id: int, status: str, reason: str | None) -> None:
    send(SHIPMENT_TRACKING_CHANGED, shipment_id=shipment_id, status=status, reason=reason)


def replacement_shipped(shipment_id: int, purpose: str) -> None:
    send(REPLACEMENT_SHIPPED, shipment_id=shipment_id, purpose=purpose)


def return_restocked(shop_id: int, account_id: int) -> None:
    send(RETURN_RESTOCKED, shop_id=shop_id, account_id=account_id)


def warehouse_stock_changed(shop_id: int, skus) -> None:
    send(WAREHOUSE_STOCK_CHANGED, shop_id=shop_id, skus=tuple(skus))


def ship_by_missed(outbound_id: int, noticed_at: datetime) -> None:
    send(SHIP_BY_MISSED, outbound_id=outbound_id, noticed_at=noticed_at)


def feedback_received(shop_id: int, order_id: int, rating: int) -> None:
    send(FEEDBACK_RECEIVED, shop_id=shop_id, order_id=order_id, rating=rating)


def shop_installed(shop_id: int) -> None:
    send(SHOP_INSTALLED, shop_id=shop_id)


def shop_updated(shop_id: int) -> None:
    send(SHOP_UPDATED, shop_id=shop_id)


def warehouse_account_connected(account_id: int) -> None:
    send(WAREHOUSE_ACCOUNT_CONNECTED, account_id=account_id)


def warehouse_settings_changed(shop_id: int) -> None:
    send(WAREHOUSE_SETTINGS_CHANGED, shop_id=shop_id)


def on_commit(session: Session, callback: Callable[[], Any]) -> None:
    """Run ``callback`` after ``session``'s current transaction commits; drop it on rollback.

    For receivers that enqueue jobs: ``signals.on_commit(db.session(), lambda: queues.enqueue(...))``.
    Best effort: the data is committed by then, so a failing callback (Redis down) is logged, not
    raised (raising would only get the sender retried, and a retry finds nothing newer to signal).
    Work that must not be lost needs a periodic sweep that finds what was left undone.

    Savepoints (``begin_nested``): releasing one commits nothing, so the callback still waits for
    the outermost commit; rolling one back drops only the callbacks registered inside it.
    """
    session.info.setdefault(_ON_COMMIT, []).append((innermost_transaction(session), callback))


def innermost_transaction(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def rolled_back_with(transaction: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    """Whether work done in ``transaction`` was undone by the rollback of ``rolled_back`` (itself
    or one of its ancestors). Work done outside any transaction goes with the outermost one."""
    if transaction is None:
        return rolled_back.parent is None
    while transaction is not None:
        if transaction is rolled_back:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    # SQLAlchemy also sends after_commit when a savepoint is released (the savepoint is still the
    # session's nested transaction then), while the outer transaction holds the data back: only
    # the outermost commit counts.
    if session.in_nested_transaction():
        return
    for _transaction, callback in session.info.pop(_ON_COMMIT, ()):
        try:
            callback()
        except Exception:
            log.exception("signals.on_commit_failed", callback=getattr(callback, "__qualname__", repr(callback)))


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_ON_COMMIT)
    if pending:
        session.info[_ON_COMMIT] = [(t, callback) for t, callback in pending
                                    if not rolled_back_with(t, previous_transaction)]


def _check(name: str) -> None:
    # A typo in a signal name would otherwise subscribe to something nobody ever sends.
    if name not in SIGNALS:
        raise ValueError(f"unknown signal {name!r}; known: {', '.join(sorted(SIGNALS))}")
