"""Rewards and perks as Shopify discount codes, one customer each.

* Redeeming holds the points at once (a ``redeem`` entry in the same transaction as the reward
  row), then a job creates the code at Shopify. The code is fixed when the reward is created
  (derived from its id, stored on the row), and the job looks it up at Shopify before creating it
  (and the connector treats ``TAKEN`` as "already made"): a job retried after a crash between
  Shopify's answer and our commit finds the code instead of making a second one.
* A redemption that Shopify refuses for good, or whose code expires unused, gives its points back
  to the lots they came from (the cron); a used one is closed.
* Perks: a free-shipping code for each member day (tiers with that perk) and a birthday gift code
  (tiers with that perk), unique per (account, kind, period) so a re-run makes nothing twice.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime, timedelta
from decimal import Decimal

import structlog
from flask import current_app
from sqlalchemy import select, update

from connectors.errors import PermanentError
from integration import job_catalog
from integration.domain import loyalty as domain
from integration.domain.channels import DiscountCode
from integration.domain.ports import ShopifyStore
from integration.extensions import db, queues
from integration.loyalty import ledger
from integration.loyalty.program import load_rules
from integration.models import Shop, ShopStatus, upsert
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyAccount, LoyaltyEntry, LoyaltyReward, RewardStatus

log = structlog.get_logger(__name__)

GIFT_DAYS = 30  # a birthday gift code is valid this long
BATCH = 500
PERK_TITLES = {"reward": "Loyalty reward", "free_shipping": "Member day free shipping",
               "birthday_gift": "Birthday gift"}


def enqueue_issue(reward_id: int, suffix: str = "") -> None:
    queues.enqueue("sync", job_catalog.ISSUE_REWARD, reward_id, job_id=job_catalog.issue_reward_id(reward_id, suffix),
                   unique=True)


def _set_code(reward_id: int, shop_domain: str, kind: str) -> str:
    code = domain.reward_code(current_app.config["NEARSTOCK"].secret_key, shop_domain, kind, reward_id)
    db.session.execute(update(LoyaltyReward.__table__).where(LoyaltyReward.id == reward_id).values(code=code))
    return code


# -- redeeming ----------------------------------------------------------------------------------


def redeem(shop: Shop, customer_id: str, points: int, *, request_key: str | None = None,
           now: datetime | None = None) -> LoyaltyReward:
    """Hold ``points`` for the reward option that costs them and queue its code; commits.
    Raises :class:`ledger.LoyaltyError` (unknown option, not enough points, program off)."""
    now = now or utcnow()
    rules = load_rules(shop.id)
    if not rules.enabled:
        raise ledger.LoyaltyError(403, "program_disabled", "the loyalty program is not active")
    option = rules.option_for(points)
    if option is None:
        raise ledger.LoyaltyError(400, "unknown_reward", "no reward costs that many points")
    account_id = ledger.ensure_account(shop.id, customer_id, rules=rules, now=now)
    db.session.commit()  # the account (and its sign-up bonus) stands whatever happens next
    if request_key:
        existing = _by_request_key(account_id, request_key)
        if existing is not None:
            return existing
    reward_id = db.session.execute(
        upsert.insert(LoyaltyReward).values(
            shop_id=shop.id, account_id=account_id, kind="reward", request_key=request_key, points=points,
            amount=option.amount, percentage=option.percentage, status=RewardStatus.PENDING, starts_at=now,
            ends_at=now + timedelta(days=rules.reward_expiry_days), created_at=now,
        ).on_conflict_do_nothing(index_elements=["account_id", "request_key"]).returning(LoyaltyReward.id)
    ).scalar()
    if reward_id is None:  # the same request, racing itself
        db.session.rollback()
        existing = _by_request_key(account_id, request_key or "")
        assert existing is not None
        return existing
    _set_code(reward_id, shop.domain, "reward")
    try:
        ledger.debit(shop.id, account_id, points, kind=domain.REDEEM, source="reward", source_id=str(reward_id),
                      rule="redeem", rules=rules, now=now)
    except ledger.InsufficientPointsError:
        db.session.rollback()  # no reward without its points
        raise
    db.session.commit()
    enqueue_issue(reward_id)
    log.info("ledger.redeemed", shop_id=shop.id, account_id=account_id, reward_id=reward_id, points=points)
    return db.session.get(LoyaltyReward, reward_id)


def _by_request_key(account_id: int, request_key: str) -> LoyaltyReward | None:
    return db.session.execute(select(LoyaltyReward).where(
        LoyaltyReward.account_id == account_id, LoyaltyReward.request_key == request_key)).scalar_one_or_none()


# -- issuing ------------------------------------------------------------------------------------


def issue_reward(reward_id: int, *, now: datetime | None = None) -> str:
    """Create the reward's code at Shopify, once; commits. Safe to run any number of times."""
    from integration.shops.shopify_client import store_for

    now = now or utcnow()
    reward = db.session.get(LoyaltyReward, reward_id)
    if reward is None:
        return "gone"
    if reward.status != RewardStatus.PENDING:
        return reward.status
    shop = db.session.get(Shop, reward.shop_id)
    account = db.session.get(LoyaltyAccount, reward.account_id)
    if shop is None or shop.status != ShopStatus.INSTALLED or account is None or not account.customer_external_id:
        return _fail(reward, "the shop uninstalled the app or the customer was erased", now)
    code = reward.code or _set_code(reward.id, shop.domain, reward.kind)
    store = store_for(shop)
    found = store.get_discount_code(code)  # made by an attempt that crashed before our commit?
    if found is None:
        try:
            found = _create(store, reward, code, account.customer_external_id, shop)
        except PermanentError as exc:
            return _fail(reward, str(exc)[:1000], now)
    changed = db.session.execute(update(LoyaltyReward.__table__).where(
        LoyaltyReward.id == reward.id, LoyaltyReward.status == RewardStatus.PENDING).values(
        status=RewardStatus.ISSUED, shopify_id=found.id, issued_at=now)).rowcount
    if changed:
        value = str(reward.amount) if reward.amount is not None else (
            f"{(Decimal(reward.percentage) * 100).normalize()}%" if reward.percentage is not None else None)
        ledger.notify(shop.id, account.id, "perk_issued", f"loyalty-reward:{reward.id}", {
            "discount_code": code, "perk": PERK_TITLES.get(reward.kind, reward.kind),
            "expires_at": reward.ends_at.date().isoformat() if reward.ends_at else None, "value": value,
            "currency": shop.currency, "points": reward.points})
    db.session.commit()
    log.info("ledger.code_issued", shop_id=shop.id, reward_id=reward.id, kind=reward.kind)
    return RewardStatus.ISSUED


def _create(store: ShopifyStore, reward: LoyaltyReward, code: str, customer_id: str, shop: Shop) -> DiscountCode:
    title = f"{PERK_TITLES.get(reward.kind, 'Loyalty')} {code}"
    if reward.kind == "free_shipping":
        return store.create_free_shipping_code(code=code, title=title, customer_id=customer_id,
                                               starts_at=reward.starts_at, ends_at=reward.ends_at)
    kwargs = ({"amount": Decimal(reward.amount)} if reward.amount is not None
              else {"percentage": float(reward.percentage or 0)})
    return store.create_basic_discount_code(code=code, title=title, customer_id=customer_id,
                                            starts_at=reward.starts_at, ends_at=reward.ends_at, usage_limit=1,
                                            **kwargs)


def _fail(reward: LoyaltyReward, error: str, now: datetime) -> str:
    """Shopify refused the code for good: close it and give the held points back."""
    changed = db.session.execute(update(LoyaltyReward.__table__).where(
        LoyaltyReward.id == reward.id, LoyaltyReward.status == RewardStatus.PENDING).values(
        status=RewardStatus.FAILED, error=error, closed_at=now)).rowcount
    if changed and reward.points:
        _give_back(reward, "refused", now)
    db.session.commit()
    log.warning("ledger.code_refused", shop_id=reward.shop_id, reward_id=reward.id, error=error[:200])
    return RewardStatus.FAILED


def _give_back(reward: LoyaltyReward, rule: str, now: datetime) -> None:
    redeem_id = db.session.execute(select(LoyaltyEntry.id).where(
        LoyaltyEntry.shop_id == reward.shop_id, LoyaltyEntry.source == "reward",
        LoyaltyEntry.source_id == str(reward.id), LoyaltyEntry.rule == "redeem")).scalar()
    if redeem_id is not None:
        ledger.give_back(reward.shop_id, reward.account_id, redeem_id, source="reward", source_id=str(reward.id),
                          rule=rule, rules=load_rules(reward.shop_id), now=now)


# -- expiry -------------------------------------------------------------------------------------


def usage_known() -> bool:
    """Whether the connector reports a code's usage (``asyncUsageCount`` as ``usage_count``)."""
    return "usage_count" in {f.name for f in fields(DiscountCode)}


def code_usage(store: ShopifyStore, code: str) -> int | None:
    """How many times the code was used at Shopify; None when we cannot tell (the connector's
    ``DiscountCode`` does not carry ``asyncUsageCount`` yet, or the code is gone): such codes are
    left alone, never returned on a guess (that could pay a used code twice)."""
    if not usage_known():
        return None
    found = store.get_discount_code(code)
    if found is None:
        return None
    usage = getattr(found, "usage_count", None)
    return int(usage) if usage is not None else None


def close_expired(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Codes past their end: perks lapse; redemptions used are closed, unused ones give their
    points back. Commits per reward."""
    from integration.shops.shopify_client import store_for

    now = now or utcnow()
    counts = {"returned": 0, "used": 0, "expired": 0, "unknown": 0}
    rows = db.session.execute(select(LoyaltyReward).where(
        LoyaltyReward.status == RewardStatus.ISSUED, LoyaltyReward.ends_at < now)
        .order_by(LoyaltyReward.ends_at, LoyaltyReward.id).limit(limit)).scalars().all()
    stores: dict[int, ShopifyStore] = {}
    for reward in rows:
        if reward.kind != "reward" or not reward.points:
            _close(reward, RewardStatus.EXPIRED, now)
            counts["expired"] += 1
            continue
        shop = db.session.get(Shop, reward.shop_id)
        if shop is None or shop.status != ShopStatus.INSTALLED:
            continue
        store = stores.get(shop.id) or stores.setdefault(shop.id, store_for(shop))
        usage = code_usage(store, reward.code or "")
        if usage is None:
            counts["unknown"] += 1
            continue
        if usage > 0:
            _close(reward, RewardStatus.USED, now)
            counts["used"] += 1
        elif _close(reward, RewardStatus.RETURNED, now, commit=False):
            _give_back(reward, "return", now)
            db.session.commit()
            counts["returned"] += 1
    if counts["unknown"]:
        log.warning("ledger.code_usage_unknown", count=counts["unknown"])
    return counts


def _close(reward: LoyaltyReward, status: str, now: datetime, *, commit: bool = True) -> bool:
    changed = db.session.execute(update(LoyaltyReward.__table__).where(
        LoyaltyReward.id == reward.id, LoyaltyReward.status == RewardStatus.ISSUED).values(
        status=status, closed_at=now)).rowcount
    if commit:
        db.session.commit()
    return bool(changed)


def stale_pending_ids(now: datetime | None = None, older_than: int = 300, limit: int = 500) -> list[int]:
    """Rewards whose issue job was lost (Redis down at enqueue, worker killed and its retry gone)."""
    now = now or utcnow()
    return list(db.session.execute(select(LoyaltyReward.id).where(
        LoyaltyReward.status == RewardStatus.PENDING, LoyaltyReward.created_at < now - timedelta(seconds=older_than))
        .order_by(LoyaltyReward.id).limit(limit)).scalars())


# -- perks --------------------------------------------------------------------------------------


def _perk(shop: Shop, account_id: int, kind: str, period: str, starts_at: datetime, ends_at: datetime,
          option: domain.RewardOption | None = None) -> int | None:
    reward_id = db.session.execute(
        upsert.insert(LoyaltyReward).values(
            shop_id=shop.id, account_id=account_id, kind=kind, period=period, points=0,
            amount=option.amount if option else None, percentage=option.percentage if option else None,
            status=RewardStatus.PENDING, starts_at=starts_at, ends_at=ends_at, created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["account_id", "kind", "period"]).returning(LoyaltyReward.id)
    ).scalar()
    if reward_id is not None:
        _set_code(reward_id, shop.domain, kind)
    return reward_id


def schedule_member_days(shop: Shop, now: datetime | None = None) -> int:
    """Free-shipping codes for the member day running or starting within a day, one per member of
    a tier with that perk; commits per batch. Returns the codes queued."""
    now = now or utcnow()
    rules = load_rules(shop.id)
    tier_ids = [t.id for t in rules.tiers if t.free_shipping_days]
    window = domain.member_day_window(rules.member_days, now) if rules.enabled and tier_ids else None
    if window is None:
        return 0
    start, end = window
    made, after = 0, 0
    while True:
        ids = list(db.session.execute(select(LoyaltyAccount.id).where(
            LoyaltyAccount.shop_id == shop.id, LoyaltyAccount.tier_id.in_(tier_ids),
            LoyaltyAccount.customer_external_id.is_not(None), LoyaltyAccount.id > after)
            .order_by(LoyaltyAccount.id).limit(BATCH)).scalars())
        if not ids:
            return made
        new = [r for r in (_perk(shop, a, "free_shipping", start.date().isoformat(), start, end) for a in ids) if r]
        db.session.commit()
        for reward_id in new:
            enqueue_issue(reward_id)
        made += len(new)
        after = ids[-1]


def run_birthdays(shop: Shop, today: date | None = None, now: datetime | None = None) -> int:
    """Birthday bonus points (once a year) and, for tiers with the perk, a gift code; commits per
    batch. Returns the customers celebrated."""
    now = now or utcnow()
    today = today or now.date()
    rules = load_rules(shop.id)
    if not rules.enabled:
        return 0
    gift_tiers = {t.id for t in rules.tiers if t.birthday_gift} if rules.birthday_gift else set()
    count, after = 0, 0
    while True:
        rows = db.session.execute(select(LoyaltyAccount.id, LoyaltyAccount.tier_id).where(
            LoyaltyAccount.shop_id == shop.id, LoyaltyAccount.birthday.in_(domain.birthday_keys(today)),
            LoyaltyAccount.customer_external_id.is_not(None), LoyaltyAccount.id > after)
            .order_by(LoyaltyAccount.id).limit(BATCH)).all()
        if not rows:
            return count
        new = []
        for account_id, tier_id in rows:
            if rules.birthday_bonus > 0:
                ledger.credit(shop.id, account_id, rules.birthday_bonus, kind=domain.EARN, source="account",
                               source_id=str(account_id), rule=f"birthday:{today.year}", rules=rules, now=now,
                               notice={"reason": "birthday"})
            if tier_id in gift_tiers:
                reward_id = _perk(shop, account_id, "birthday_gift", str(today.year), now,
                                  now + timedelta(days=GIFT_DAYS), rules.birthday_gift)
                if reward_id:
                    new.append(reward_id)
        db.session.commit()
        for reward_id in new:
            enqueue_issue(reward_id)
        count += len(rows)
        after = rows[-1].id
