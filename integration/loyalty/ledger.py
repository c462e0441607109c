"""The points ledger: append-only entries, the balance row, lots, tiers. Public API for the rest
of the app: :func:`balance`, :func:`has_priority`, :func:`award_feedback`.

Every change is one entry plus, in the same transaction, one UPDATE of the customer's account row:

* the entry is inserted under the unique (shop, source, source id, rule) of the event that made it,
  ``ON CONFLICT DO NOTHING``: a repeated event (redelivered webhook, retried job) posts nothing;
* the balance moves by a conditional ``UPDATE … SET balance = balance + :d WHERE balance + :d >= 0``
  (and a CHECK constraint): it can never go negative. On PostgreSQL the UPDATE takes the account's
  row lock until commit, so concurrent posts for one customer queue up behind each other and each
  re-checks the balance the previous one committed (no lost update, no double spend); on SQLite
  the first write takes the database's write lock, with the same effect;
* the lots (what is left of each credit, and when it expires) are read and changed only after that
  lock is held, so they always add up to the balance; debits consume them oldest first.

Reading a balance is one primary-key-sized lookup on the account row, whatever the history length.
Functions here never commit: the use cases that call them do (or the caller's transaction does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy import func, insert, or_, select, update

from integration.domain import loyalty as domain
from integration.extensions import db
from integration.loyalty.program import load_rules
from integration.models import upsert
from integration.models.base import utcnow
from integration.models.loyalty import (
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    LoyaltyLotUse,
    LoyaltyMonth,
    LoyaltyTier,
)
from integration.notices import outbox

log = structlog.get_logger(__name__)

ACCOUNTS = LoyaltyAccount.__table__
LOTS = LoyaltyLot.__table__
LOT_BATCH = 100
CUSTOMER_GID = "gid://shopify/Customer/"


class LoyaltyError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class InsufficientPointsError(LoyaltyError):
    def __init__(self, message: str = "not enough points") -> None:
        super().__init__(409, "insufficient_points", message)


@dataclass(frozen=True)
class Posted:
    entry_id: int
    points: int  # signed, as applied
    balance: int  # after this entry


def customer_gid(value: str | int | None) -> str | None:
    """``123`` or ``gid://shopify/Customer/123`` -> the gid; anything else -> None."""
    text = str(value or "").strip()
    tail = text[len(CUSTOMER_GID):] if text.startswith(CUSTOMER_GID) else text
    return CUSTOMER_GID + tail if tail.isdigit() and len(tail) <= 20 else None


# -- accounts -----------------------------------------------------------------------------------


def find_account(shop_id: int, customer_id: str) -> LoyaltyAccount | None:
    return db.session.execute(select(LoyaltyAccount).where(
        LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.customer_external_id == customer_id)).scalar_one_or_none()


def ensure_account(shop_id: int, customer_id: str, *, email: str | None = None, locale: str | None = None,
                   rules: domain.ProgramRules | None = None, now: datetime | None = None) -> int:
    """The customer's account id, created (insert-or-get) with the sign-up bonus if new."""
    now = now or utcnow()
    account_id = db.session.execute(select(LoyaltyAccount.id).where(
        LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.customer_external_id == customer_id)).scalar()
    if account_id is None:
        account_id = db.session.execute(
            upsert.insert(LoyaltyAccount).values(
                shop_id=shop_id, customer_external_id=customer_id, email=email, locale=locale, balance=0,
                lifetime_earned=0, version=0, created_at=now, updated_at=now,
            ).on_conflict_do_nothing(index_elements=["shop_id", "customer_external_id"]).returning(LoyaltyAccount.id)
        ).scalar()
        if account_id is not None:
            rules = rules or load_rules(shop_id)
            if rules.enabled and rules.signup_bonus > 0:
                credit(shop_id, account_id, rules.signup_bonus, kind=domain.EARN, source="account",
                       source_id=str(account_id), rule="signup", rules=rules, now=now,
                       notice={"reason": "signup"})
            return account_id
        account_id = db.session.execute(select(LoyaltyAccount.id).where(  # lost the race: theirs
            LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.customer_external_id == customer_id)).scalar_one()
    if email or locale:  # keep where notices go current; a no-op UPDATE takes no lock
        changes = {k: v for k, v in (("email", email), ("locale", locale)) if v}
        conditions = [getattr(ACCOUNTS.c, k).is_distinct_from(v) for k, v in changes.items()]
        db.session.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id, or_(*conditions)).values(changes))
    return account_id


def balance(shop_id: int, customer_id: str) -> int:
    """The customer's points: one indexed read of the account row, O(1) in the history length."""
    value = db.session.execute(select(ACCOUNTS.c.balance).where(
        ACCOUNTS.c.shop_id == shop_id, ACCOUNTS.c.customer_external_id == customer_id)).scalar()
    return int(value or 0)


def has_priority(shop_id: int, customer_id: str | int) -> bool:
    """Whether the customer's tier grants priority after-sales (for returns, support, exceptions)."""
    gid = customer_gid(customer_id)
    if gid is None:
        return False
    flag = db.session.execute(
        select(LoyaltyTier.priority_support).join(LoyaltyAccount, LoyaltyAccount.tier_id == LoyaltyTier.id)
        .where(LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.customer_external_id == gid)).scalar()
    return bool(flag)


# -- posting ------------------------------------------------------------------------------------


def _entry(shop_id: int, account_id: int, kind: str, points: int, source: str, source_id: str, rule: str,
           now: datetime, **extra) -> int | None:
    return db.session.execute(
        upsert.insert(LoyaltyEntry).values(shop_id=shop_id, account_id=account_id, kind=kind, points=points,
                                           source=source, source_id=str(source_id)[:64], rule=rule[:48],
                                           created_at=now, **extra)
        .on_conflict_do_nothing(index_elements=["shop_id", "source", "source_id", "rule"])
        .returning(LoyaltyEntry.id)
    ).scalar()


def _move(account_id: int, delta: int, now: datetime, *, earned: int = 0) -> tuple[int, int | None] | None:
    """The conditional UPDATE of the balance row; None if it would go negative."""
    stmt = update(ACCOUNTS).where(ACCOUNTS.c.id == account_id)
    if delta < 0:
        stmt = stmt.where(ACCOUNTS.c.balance + delta >= 0)
    values = {"balance": ACCOUNTS.c.balance + delta, "version": ACCOUNTS.c.version + 1, "updated_at": now}
    if earned:
        values["lifetime_earned"] = ACCOUNTS.c.lifetime_earned + earned
    row = db.session.execute(stmt.values(values).returning(ACCOUNTS.c.balance, ACCOUNTS.c.tier_id)).first()
    return (row[0], row[1]) if row else None


def lock(account_id: int) -> tuple[int, int | None]:
    """Take the account's row lock (PostgreSQL) / the write lock (SQLite); returns its balance."""
    row = db.session.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id)
                             .values(version=ACCOUNTS.c.version + 1)
                             .returning(ACCOUNTS.c.balance, ACCOUNTS.c.tier_id)).first()
    if row is None:
        raise LoyaltyError(404, "no_account", f"loyalty account {account_id} does not exist")
    return row[0], row[1]


def credit(shop_id: int, account_id: int, points: int, *, kind: str, source: str, source_id: str, rule: str,
           rules: domain.ProgramRules, now: datetime | None = None, amount: Decimal | None = None,
           order_id: int | None = None, detail: dict | None = None, notice: dict | None = None) -> Posted | None:
    """Add ``points`` as a new lot (expiring by the program's rule). ``kind`` earn counts towards
    tiers. Returns None when this event was already posted. Zero points still records the entry
    (the event is then known as handled) but makes no lot."""
    if points < 0:
        raise ValueError("credit takes points >= 0")
    now = now or utcnow()
    entry_id = _entry(shop_id, account_id, kind, points, source, source_id, rule, now, amount=amount,
                      order_id=order_id, detail=detail)
    if entry_id is None:
        return None
    moved = _move(account_id, points, now, earned=points if kind == domain.EARN else 0)
    if moved is None:
        raise LoyaltyError(404, "no_account", f"loyalty account {account_id} does not exist")
    balance_after, tier_id = moved
    if points:
        db.session.execute(insert(LOTS).values(account_id=account_id, entry_id=entry_id, points=points,
                                               remaining=points, expires_at=domain.lot_expiry(now, rules),
                                               created_at=now))
    if kind == domain.EARN and points:
        _bump_month(account_id, domain.month_index(now), points, amount or Decimal(0))
    _evaluate_tier(shop_id, account_id, tier_id, rules, now, balance_after)
    if notice is not None and points > 0:
        notify(shop_id, account_id, "points_earned", f"loyalty-entry:{entry_id}",
               {"points": points, "balance": balance_after, **notice})
    return Posted(entry_id, points, balance_after)


def debit(shop_id: int, account_id: int, points: int, *, kind: str, source: str, source_id: str, rule: str,
          rules: domain.ProgramRules, now: datetime | None = None, **extra) -> Posted | None:
    """Take exactly ``points`` (oldest lots first) or raise :class:`InsufficientPointsError`."""
    if points <= 0:
        raise ValueError("debit takes points > 0")
    now = now or utcnow()
    moved = _move(account_id, -points, now)
    if moved is None:
        raise InsufficientPointsError()
    entry_id = _entry(shop_id, account_id, kind, -points, source, source_id, rule, now, **extra)
    if entry_id is None:  # posted before: undo our move (we still hold the lock)
        _move(account_id, points, now)
        return None
    _consume(account_id, entry_id, points)
    _evaluate_tier(shop_id, account_id, moved[1], rules, now, moved[0])
    return Posted(entry_id, -points, moved[0])


def take_back(shop_id: int, account_id: int, points: int, *, kind: str, source: str, source_id: str, rule: str,
              rules: domain.ProgramRules, now: datetime | None = None, prefer_lot: int | None = None,
              month: int | None = None, value: Decimal | None = None, **extra) -> Posted | None:
    """Take up to ``points`` (never more than the balance): reversals and expiry. ``prefer_lot``
    is consumed first; ``month`` (with ``value``) is the tier month the points are taken from."""
    now = now or utcnow()
    held, _tier = lock(account_id)
    points = min(points, held)
    if points <= 0:
        return None
    entry_id = _entry(shop_id, account_id, kind, -points, source, source_id, rule, now, amount=value, **extra)
    if entry_id is None:
        return None
    moved = _move(account_id, -points, now)
    if moved is None:  # impossible under the lock; refuse rather than go negative
        raise InsufficientPointsError("balance changed under the lock")
    _consume(account_id, entry_id, points, prefer=prefer_lot)
    if month is not None:
        _bump_month(account_id, month, -points, -(value or Decimal(0)))
    _evaluate_tier(shop_id, account_id, moved[1], rules, now, moved[0])
    return Posted(entry_id, -points, moved[0])


def give_back(shop_id: int, account_id: int, debit_entry_id: int, *, source: str, source_id: str, rule: str,
              rules: domain.ProgramRules, now: datetime | None = None) -> Posted | None:
    """Return a debit's points to the lots it took them from (a redemption that expired unused or
    was refused): their original expiry stands."""
    now = now or utcnow()
    uses = db.session.execute(select(LoyaltyLotUse.lot_id, LoyaltyLotUse.points)
                              .where(LoyaltyLotUse.entry_id == debit_entry_id)).all()
    total = sum(p for _, p in uses)
    if total <= 0:
        return None
    entry_id = _entry(shop_id, account_id, domain.REVERSE, total, source, source_id, rule, now,
                      reverses_id=debit_entry_id)
    if entry_id is None:
        return None
    moved = _move(account_id, total, now)
    if moved is None:
        raise LoyaltyError(404, "no_account", f"loyalty account {account_id} does not exist")
    for lot_id, points in sorted(uses):
        db.session.execute(update(LOTS).where(LOTS.c.id == lot_id).values(remaining=LOTS.c.remaining + points))
    _evaluate_tier(shop_id, account_id, moved[1], rules, now, moved[0])
    return Posted(entry_id, total, moved[0])


def _consume(account_id: int, entry_id: int, points: int, prefer: int | None = None) -> None:
    """Take ``points`` from the open lots, ``prefer`` first then oldest first; record each take.
    Called with the account locked: the lots read here cannot change under us."""
    takes: list[tuple[int, int]] = []
    left = points
    if prefer is not None:
        remaining = db.session.execute(select(LOTS.c.remaining).where(LOTS.c.id == prefer,
                                                                      LOTS.c.account_id == account_id)).scalar()
        if remaining:
            takes.append((prefer, min(left, remaining)))
            left -= takes[0][1]
    after = 0
    while left > 0:
        rows = db.session.execute(
            select(LOTS.c.id, LOTS.c.remaining).where(LOTS.c.account_id == account_id, LOTS.c.remaining > 0,
                                                      LOTS.c.id > after)
            .order_by(LOTS.c.id).limit(LOT_BATCH)).all()
        if not rows:
            raise domain.InsufficientLotsError(f"account {account_id}: open lots are {left} points short")
        lots = [domain.Lot(r.id, r.remaining) for r in rows if r.id != prefer]
        available = sum(lot.remaining for lot in lots)
        batch = domain.consume_fifo(lots, min(left, available))
        takes += batch
        left -= min(left, available)
        after = rows[-1].id
    for lot_id, take in takes:
        changed = db.session.execute(update(LOTS).where(LOTS.c.id == lot_id, LOTS.c.remaining >= take)
                                     .values(remaining=LOTS.c.remaining - take)).rowcount
        if changed != 1:
            raise domain.InsufficientLotsError(f"lot {lot_id} changed under the lock")
    if takes:
        db.session.execute(insert(LoyaltyLotUse.__table__),
                           [{"entry_id": entry_id, "lot_id": lot_id, "points": take} for lot_id, take in takes])


def _bump_month(account_id: int, month: int, points: int, spend: Decimal) -> None:
    table = LoyaltyMonth.__table__
    stmt = upsert.insert(LoyaltyMonth).values(account_id=account_id, month=month, points=points, spend=spend)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["account_id", "month"],
        set_={"points": table.c.points + stmt.excluded.points, "spend": table.c.spend + stmt.excluded.spend}))


# -- tiers --------------------------------------------------------------------------------------


def qualifying(account_id: int, basis: str, now: datetime) -> Decimal:
    """Points (or spend) over the rolling window: at most 12 month rows, whatever the history."""
    table = LoyaltyMonth.__table__
    column = table.c.points if basis == "points" else table.c.spend
    value = db.session.execute(select(func.coalesce(func.sum(column), 0)).where(
        table.c.account_id == account_id, table.c.month >= domain.window_start(now))).scalar()
    return Decimal(value or 0)


def _evaluate_tier(shop_id: int, account_id: int, current_id: int | None, rules: domain.ProgramRules,
                   now: datetime, balance_now: int) -> None:
    """Re-evaluated on every ledger change (and by the daily sweep as months roll off)."""
    if not rules.tiers and current_id is None:
        return
    new = domain.evaluate_tier(rules.tiers, qualifying(account_id, rules.tier_basis, now))
    new_id = new.id if new else None
    if new_id == current_id:
        return
    db.session.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id)
                       .values(tier_id=new_id, tier_changed_at=now))
    old = rules.tier(current_id)
    log.info("loyalty.tier_changed", shop_id=shop_id, account_id=account_id, tier=new.name if new else None,
             previous=old.name if old else None)
    if domain.is_upgrade(old, new):
        assert new is not None
        perks = [name for flag, name in ((new.free_shipping_days, "free_shipping_days"),
                                         (new.birthday_gift, "birthday_gift"),
                                         (new.priority_support, "priority_support")) if flag]
        if new.multiplier > 1:
            perks.append(f"points_x{new.multiplier.normalize()}")
        notify(shop_id, account_id, "tier_reached", f"loyalty-tier:{account_id}:{new_id}:{domain.month_index(now)}",
               {"tier_name": new.name, "balance": balance_now, "perks": perks})


def reevaluate(shop_id: int, account_id: int, rules: domain.ProgramRules, now: datetime | None = None) -> None:
    """Tier check without a ledger change (tiers edited, months rolled off)."""
    now = now or utcnow()
    balance_now, tier_id = lock(account_id)
    _evaluate_tier(shop_id, account_id, tier_id, rules, now, balance_now)


# -- notices ------------------------------------------------------------------------------------


def notify(shop_id: int, account_id: int, kind: str, subject: str, context: dict) -> int | None:
    """Queue a customer notice through the outbox, in this transaction (inside a savepoint: a
    failing notice never takes the points with it)."""
    row = db.session.execute(select(ACCOUNTS.c.email, ACCOUNTS.c.locale).where(ACCOUNTS.c.id == account_id)).first()
    if row is None or not row.email:
        return None
    try:
        with db.session.begin_nested():
            return outbox.enqueue_notice(shop_id, kind, subject, row.email, locale=row.locale, context=context)
    except Exception as exc:
        log.warning("loyalty.notice_failed", kind=kind, subject=subject, error=type(exc).__name__)
        return None


# -- public hooks -------------------------------------------------------------------------------


def award_feedback(shop_id: int, order_id: int, *, now: datetime | None = None) -> int | None:
    """Bonus points for the customer's review/feedback of an order, once per order. Runs in the
    caller's transaction (the notifications feedback hook); returns the points credited."""
    from integration.models import Order

    rules = load_rules(shop_id)
    if not rules.enabled or rules.feedback_bonus <= 0:
        return None
    order = db.session.get(Order, order_id)
    if order is None or order.shop_id != shop_id or order.redacted_at is not None or not order.customer_external_id:
        return None
    account_id = ensure_account(shop_id, order.customer_external_id, email=order.email, locale=order.locale,
                                rules=rules, now=now)
    posted = credit(shop_id, account_id, rules.feedback_bonus, kind=domain.EARN, source="order",
                    source_id=str(order_id), rule="feedback", rules=rules, now=now, order_id=order_id,
                    notice={"reason": "feedback", "order_name": order.name})
    return posted.points if posted else None
