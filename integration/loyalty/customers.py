"""The merchant's view of the program's members: the searchable list with balances and tiers, one
customer's ledger page by page, and the CSV export of both.

Queries here are returned unexecuted where the admin pages them (the view hands them to
:func:`integration.views.pagination.paginate`), so one page is one bounded query.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Select, select

from integration.csv_export import csv_line
from integration.extensions import db
from integration.loyalty import ledger as loyalty
from integration.loyalty.admin import entry_json, reward_json, tier_progress
from integration.loyalty.program import load_rules
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyAccount, LoyaltyAdjustment, LoyaltyEntry, LoyaltyReward, LoyaltyTier

MAX_QUERY = 100
EXPORT_BATCH = 2000
EXPORTS = ("customers", "ledger")


class SearchError(ValueError):
    """The search text is not usable: ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _like_pattern(text: str) -> str:
    """``%text%`` with the text's own ``%``, ``_`` and ``\\`` matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# -- the list -----------------------------------------------------------------------------------


def customer_query(shop_id: int, q: str | None = None) -> Select:
    """The shop's members, newest first; ``q`` is a Shopify customer id (number or gid, exact) or
    part of an email address (case-insensitive). Redacted accounts (no one's any more) are left out."""
    stmt = (select(LoyaltyAccount.id, LoyaltyAccount.customer_external_id, LoyaltyAccount.email,
                   LoyaltyAccount.balance, LoyaltyAccount.lifetime_earned, LoyaltyTier.name.label("tier"),
                   LoyaltyAccount.created_at, LoyaltyAccount.updated_at)
            .outerjoin(LoyaltyTier, LoyaltyTier.id == LoyaltyAccount.tier_id)
            .where(LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.customer_external_id.is_not(None))
            .order_by(LoyaltyAccount.id.desc()))
    text = (q or "").strip()
    if len(text) > MAX_QUERY:
        raise SearchError("q", f"the search must be at most {MAX_QUERY} characters")
    if not text:
        return stmt
    gid = loyalty.customer_gid(text)
    if gid is not None:
        return stmt.where(LoyaltyAccount.customer_external_id == gid)
    return stmt.where(LoyaltyAccount.email.ilike(_like_pattern(text.lower()), escape="\\"))


def customer_json(row) -> dict:
    gid = row.customer_external_id
    return {"customer_id": gid, "number": gid.rsplit("/", 1)[-1], "email": row.email, "balance": row.balance,
            "lifetime_earned": row.lifetime_earned, "tier": row.tier, "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at)}


# -- one customer -------------------------------------------------------------------------------


def account_summary(shop_id: int, customer_id: str) -> dict | None:
    """Balance, tier and progress, and the latest reward codes of one member; None if not one."""
    account = loyalty.find_account(shop_id, customer_id)
    if account is None:
        return None
    rules = load_rules(shop_id)
    rewards = db.session.execute(select(LoyaltyReward).where(LoyaltyReward.account_id == account.id)
                                 .order_by(LoyaltyReward.id.desc()).limit(50)).scalars()
    return {"account_id": account.id, "customer_id": customer_id, "email": account.email,
            "balance": account.balance, "lifetime_earned": account.lifetime_earned,
            **tier_progress(account, rules, utcnow()), "rewards": [reward_json(r) for r in rewards]}


def entries_query(account_id: int) -> Select:
    return select(LoyaltyEntry).where(LoyaltyEntry.account_id == account_id).order_by(LoyaltyEntry.id.desc())


def entries_json(entries: Sequence[LoyaltyEntry]) -> list[dict]:
    """Ledger rows with the full rule and, for manual adjustments, the reason and who gave it."""
    ids = [e.id for e in entries]
    reasons = {a.entry_id: a for a in db.session.execute(
        select(LoyaltyAdjustment).where(LoyaltyAdjustment.entry_id.in_(ids))).scalars()} if ids else {}
    rows = []
    for e in entries:
        row = entry_json(e)
        row["rule"] = e.rule
        if e.id in reasons:
            row["reason"], row["actor"] = reasons[e.id].reason, reasons[e.id].actor
        rows.append(row)
    return rows


# -- CSV ----------------------------------------------------------------------------------------


def export_csv(shop_id: int, what: str, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The members (``customers``) or every ledger entry (``ledger``) as CSV lines, read in keyset
    batches so memory stays flat however long the history."""
    if what == "customers":
        yield csv_line(["customer_id", "email", "balance", "lifetime_earned", "tier", "created_at"])
        stmt = (select(LoyaltyAccount.id, LoyaltyAccount.customer_external_id, LoyaltyAccount.email,
                       LoyaltyAccount.balance, LoyaltyAccount.lifetime_earned, LoyaltyTier.name,
                       LoyaltyAccount.created_at)
                .outerjoin(LoyaltyTier, LoyaltyTier.id == LoyaltyAccount.tier_id)
                .where(LoyaltyAccount.shop_id == shop_id))
        after = 0
        while rows := db.session.execute(stmt.where(LoyaltyAccount.id > after)
                                         .order_by(LoyaltyAccount.id).limit(batch)).all():
            for row in rows:
                yield csv_line([row[1], row[2], row[3], row[4], row[5], _iso(row[6])])
            after = rows[-1][0]
        return
    yield csv_line(["entry_id", "customer_id", "kind", "points", "rule", "source", "order_id", "reason",
                     "created_at"])
    stmt = (select(LoyaltyEntry.id, LoyaltyAccount.customer_external_id, LoyaltyEntry.kind, LoyaltyEntry.points,
                   LoyaltyEntry.rule, LoyaltyEntry.source, LoyaltyEntry.order_id, LoyaltyAdjustment.reason,
                   LoyaltyEntry.created_at)
            .join(LoyaltyAccount, LoyaltyAccount.id == LoyaltyEntry.account_id)
            .outerjoin(LoyaltyAdjustment, LoyaltyAdjustment.entry_id == LoyaltyEntry.id)
            .where(LoyaltyEntry.shop_id == shop_id))
    after = 0
    while rows := db.session.execute(stmt.where(LoyaltyEntry.id > after).order_by(LoyaltyEntry.id)
                                     .limit(batch)).all():
        for row in rows:
            yield csv_line([*row[:8], _iso(row[8])])
        after = rows[-1][0]
