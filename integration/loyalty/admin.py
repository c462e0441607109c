"""What people see of the program: a customer's own summary (storefront), manual adjustments and
program totals (merchant), joining with a birthday (customer). The merchant's member list and
ledgers are in :mod:`integration.loyalty.customers`."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy import func, select

from integration.domain import loyalty as domain
from integration.extensions import db
from integration.loyalty import ledger as loyalty
from integration.loyalty.program import load_rules, num, option_json, program_json, tier_json
from integration.models.base import utcnow
from integration.models.loyalty import (
    LoyaltyAccount,
    LoyaltyAdjustment,
    LoyaltyEntry,
    LoyaltyReward,
    LoyaltyTier,
    RewardStatus,
)

log = structlog.get_logger(__name__)

MAX_ADJUST = 10_000_000
MAX_REASON = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry_json(e: LoyaltyEntry) -> dict:
    return {"id": e.id, "kind": e.kind, "points": e.points, "rule": e.rule.split(":", 1)[0], "source": e.source,
            "amount": str(e.amount) if e.amount is not None else None, "order_id": e.order_id,
            "created_at": _iso(e.created_at)}


def reward_json(r: LoyaltyReward, *, with_code: bool = True) -> dict:
    return {"id": r.id, "kind": r.kind, "status": r.status, "points": r.points,
            "amount": str(r.amount) if r.amount is not None else None,
            "percentage": str(r.percentage) if r.percentage is not None else None,
            "code": r.code if with_code and r.status == RewardStatus.ISSUED else None,
            "starts_at": _iso(r.starts_at), "ends_at": _iso(r.ends_at), "created_at": _iso(r.created_at)}


def _recent(model, account_id: int, limit: int, before: int | None = None) -> list:
    query = select(model).where(model.account_id == account_id)
    if before:
        query = query.where(model.id < before)
    return list(db.session.execute(query.order_by(model.id.desc()).limit(limit)).scalars())


def tier_progress(account: LoyaltyAccount, rules: domain.ProgramRules, now: datetime) -> dict:
    current = rules.tier(account.tier_id)
    value = loyalty.qualifying(account.id, rules.tier_basis, now)
    upcoming = [t for t in rules.tiers if t.threshold > value and (current is None or t.threshold > current.threshold)]
    following = min(upcoming, key=lambda t: t.threshold) if upcoming else None
    return {
        "tier": tier_json(current) if current else None,
        "qualifying": num(value),
        "basis": rules.tier_basis,
        "next_tier": {"name": following.name, "needed": num(following.threshold - value)} if following else None,
    }


def customer_view(shop_id: int, customer_id: str, *, currency: str | None = None, history: int = 20,
                  now: datetime | None = None) -> dict:
    """The logged-in customer's balance, tier, perks, codes and recent history."""
    now = now or utcnow()
    rules = load_rules(shop_id)
    program = {k: v for k, v in program_json(rules).items()
               if k in ("enabled", "points_per_currency", "local_multiplier", "earn_on", "reward_options",
                        "points_expiry_days")}
    program["currency"] = currency
    program["tiers"] = [{"name": t.name, "threshold": num(t.threshold), "multiplier": num(t.multiplier),
                         "free_shipping_days": t.free_shipping_days, "birthday_gift": t.birthday_gift,
                         "priority_support": t.priority_support} for t in rules.tiers]
    account = loyalty.find_account(shop_id, customer_id)
    out = {"program": program, "enrolled": account is not None, "balance": 0, "held": 0, "tier": None,
           "next_tier": None, "birthday_set": False, "rewards": [], "history": [], "perks": []}
    if account is None:
        return out
    rewards = _recent(LoyaltyReward, account.id, 20)
    out.update(tier_progress(account, rules, now))
    out.update(balance=account.balance, birthday_set=account.birthday is not None,
               held=sum(r.points for r in rewards if r.status == RewardStatus.PENDING),
               rewards=[reward_json(r) for r in rewards],
               history=[entry_json(e) for e in _recent(LoyaltyEntry, account.id, history)])
    out["redeemable"] = [option_json(o) for o in rules.reward_options if o.points <= account.balance]
    out["perks"] = tier_perks(out["tier"])
    return out


def tier_perks(tier: dict | None) -> list[dict]:
    """What the customer's tier gives them, said as facts (the customer account extension words
    them in the customer's language). Priority after-sales: a return the shop's policy allows is
    approved at once, without waiting for the merchant (integration/domain/returns.py decide), and
    its jobs run on the queue ahead of the everyday sync work (integration/returns/intake.py)."""
    if tier is None or not tier.get("priority_support"):
        return []
    return [{"code": "priority_after_sales", "returns_approved_automatically": True, "handled_first": True}]


def join(shop_id: int, customer_id: str, *, birthday: str | None = None, now: datetime | None = None) -> int:
    """Enrol the customer (sign-up bonus once) and record their birthday (MM-DD); commits."""
    rules = load_rules(shop_id)
    if not rules.enabled:
        raise loyalty.LoyaltyError(403, "program_disabled", "the loyalty program is not active")
    account_id = loyalty.ensure_account(shop_id, customer_id, rules=rules, now=now)
    if birthday is not None:
        try:
            parsed = domain.parse_birthday(birthday)
        except ValueError as exc:
            db.session.rollback()
            raise loyalty.LoyaltyError(400, "invalid_birthday", str(exc)) from None
        account = db.session.get(LoyaltyAccount, account_id)
        if account.birthday is not None and account.birthday != parsed:
            # Changing it at will would mean a birthday bonus every week.
            db.session.rollback()
            raise loyalty.LoyaltyError(409, "birthday_already_set", "the birthday can only be set once")
        account.birthday = parsed
    db.session.commit()
    return account_id


# -- merchant -----------------------------------------------------------------------------------


def adjust(shop_id: int, customer_id: str, points: object, reason: object, *, actor: str | None,
           request_key: str | None = None, now: datetime | None = None) -> dict:
    """A manual credit or debit with a required reason, logged with who made it; commits."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUST:
        raise loyalty.LoyaltyError(422, "invalid_points",
                                   f"points must be a whole number from -{MAX_ADJUST} to {MAX_ADJUST}, not 0",
                                   field="points")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise loyalty.LoyaltyError(422, "reason_required", f"a reason of 1 to {MAX_REASON} characters is required",
                                   field="reason")
    now = now or utcnow()
    rules = load_rules(shop_id)
    account_id = loyalty.ensure_account(shop_id, customer_id, rules=rules, now=now)
    key = request_key or uuid.uuid4().hex
    common = {"kind": domain.ADJUST, "source": "admin", "source_id": key, "rule": "adjust", "rules": rules, "now": now}
    if points > 0:
        posted = loyalty.credit(shop_id, account_id, points, **common)
    else:
        try:
            posted = loyalty.debit(shop_id, account_id, -points, **common)
        except loyalty.InsufficientPointsError:
            db.session.rollback()
            raise
    if posted is None:  # the same request again: answer with what it did
        db.session.rollback()
        entry = db.session.execute(select(LoyaltyEntry).where(
            LoyaltyEntry.shop_id == shop_id, LoyaltyEntry.source == "admin", LoyaltyEntry.source_id == key,
            LoyaltyEntry.rule == "adjust")).scalar_one()
        return {"entry": entry_json(entry), "balance": loyalty.balance(shop_id, customer_id), "repeated": True}
    db.session.add(LoyaltyAdjustment(shop_id=shop_id, account_id=account_id, entry_id=posted.entry_id,
                                     customer_external_id=customer_id, points=points, reason=reason.strip(),
                                     actor=(actor or "")[:64] or None, created_at=now))
    db.session.commit()
    # The audit line names who and how much; the reason (free text, maybe personal) stays in the table.
    log.info("loyalty.adjusted", shop_id=shop_id, account_id=account_id, entry_id=posted.entry_id, points=points,
             actor=actor)
    entry = db.session.get(LoyaltyEntry, posted.entry_id)
    return {"entry": entry_json(entry), "balance": posted.balance, "repeated": False}


def totals(shop_id: int) -> dict:
    members, outstanding = db.session.execute(select(func.count(), func.coalesce(func.sum(LoyaltyAccount.balance), 0))
                                              .where(LoyaltyAccount.shop_id == shop_id)).one()
    by_kind = {kind: {"points": int(points or 0), "entries": n} for kind, points, n in db.session.execute(
        select(LoyaltyEntry.kind, func.sum(LoyaltyEntry.points), func.count())
        .where(LoyaltyEntry.shop_id == shop_id).group_by(LoyaltyEntry.kind))}
    by_tier = {name or "none": n for name, n in db.session.execute(
        select(LoyaltyTier.name, func.count(LoyaltyAccount.id)).select_from(LoyaltyAccount)
        .outerjoin(LoyaltyTier, LoyaltyTier.id == LoyaltyAccount.tier_id)
        .where(LoyaltyAccount.shop_id == shop_id).group_by(LoyaltyTier.name))}
    rewards = {status: {"count": n, "points": int(points or 0)} for status, n, points in db.session.execute(
        select(LoyaltyReward.status, func.count(), func.sum(LoyaltyReward.points))
        .where(LoyaltyReward.shop_id == shop_id).group_by(LoyaltyReward.status))}
    return {"members": members, "outstanding_points": int(outstanding), "by_kind": by_kind, "by_tier": by_tier,
            "rewards": rewards}


def reevaluate_shop(shop_id: int, *, tiered_only: bool = False, now: datetime | None = None, batch: int = 500) -> int:
    """Re-check every account's tier (tiers edited) or only tiered ones (months rolled off);
    commits per batch. Returns the accounts checked."""
    rules = load_rules(shop_id)
    checked, after = 0, 0
    while True:
        query = select(LoyaltyAccount.id).where(LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.id > after)
        if tiered_only:
            query = query.where(LoyaltyAccount.tier_id.is_not(None))
        ids = list(db.session.execute(query.order_by(LoyaltyAccount.id).limit(batch)).scalars())
        if not ids:
            return checked
        for account_id in ids:
            loyalty.reevaluate(shop_id, account_id, rules, now)
        db.session.commit()
        checked += len(ids)
        after = ids[-1]


def export_lines(shop_id: int, batch: int = 5000):
    """The whole program as JSON lines, for the merchant (their own records, e.g. to move to
    another app): every account (customer gid, balance, tier) then every ledger entry, read in
    keyset batches so memory stays flat however long the history."""
    import json

    tiers = {t.id: t.name for t in db.session.execute(select(LoyaltyTier).where(LoyaltyTier.shop_id == shop_id))
             .scalars()}
    after = 0
    while True:
        accounts = db.session.execute(select(LoyaltyAccount).where(
            LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.id > after).order_by(LoyaltyAccount.id)
            .limit(batch)).scalars().all()
        if not accounts:
            break
        for a in accounts:
            yield json.dumps({"type": "account", "id": a.id, "customer_id": a.customer_external_id,
                              "balance": a.balance, "lifetime_earned": a.lifetime_earned,
                              "tier": tiers.get(a.tier_id), "created_at": _iso(a.created_at)}) + "\n"
        after = accounts[-1].id
    after = 0
    while True:
        entries = db.session.execute(select(LoyaltyEntry).where(
            LoyaltyEntry.shop_id == shop_id, LoyaltyEntry.id > after).order_by(LoyaltyEntry.id)
            .limit(batch)).scalars().all()
        if not entries:
            break
        for e in entries:
            yield json.dumps({"type": "entry", "account_id": e.account_id, **entry_json(e), "rule": e.rule,
                              "source_id": e.source_id}) + "\n"
        after = entries[-1].id
        db.session.expunge_all()  # keep the identity map from growing with the history
