"""The loyalty program: per-shop rules and tiers, a customer's account (the O(1) balance row), the
append-only points ledger, earned lots with their expiry, monthly totals for tiers, reward and
perk codes, refunds seen, and the merchant's manual adjustments.

Privacy: the account is the only row that names the customer (``customer_external_id``, email,
birthday, locale); entries, lots, months and rewards hang off it by ``account_id``. A redact
nulls the account's identity, so the ledger stays (program totals keep adding up) but no longer
says whose it is. Adjustments keep the merchant's free-text reason: personal too, erased with it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow

Points = BigInteger()


class LoyaltyProgram(Base):
    """A shop's earning rules; no row means the program is off."""

    __tablename__ = "loyalty_programs"
    __not_pii__ = ("birthday_bonus", "birthday_gift")  # the shop's rules for birthdays, not anyone's birthday

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    points_per_currency: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=Decimal(1))
    local_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(2))
    earn_on: Mapped[str] = mapped_column(String(16), default="shipped")  # shipped | delivered
    points_expiry_days: Mapped[int] = mapped_column(Integer, default=365)  # 0: never
    signup_bonus: Mapped[int] = mapped_column(Integer, default=0)
    birthday_bonus: Mapped[int] = mapped_column(Integer, default=0)
    feedback_bonus: Mapped[int] = mapped_column(Integer, default=0)
    tier_basis: Mapped[str] = mapped_column(String(8), default="points")  # points | spend
    member_days: Mapped[list] = mapped_column(JSON, default=list)  # [1, 15, "2026-12-24"]
    reward_options: Mapped[list] = mapped_column(JSON, default=list)  # [{"points": 500, "amount": "5.00"}]
    reward_expiry_days: Mapped[int] = mapped_column(Integer, default=30)
    birthday_gift: Mapped[dict | None] = mapped_column(JSON)  # {"amount": "10.00"} | {"percentage": "0.1"}
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LoyaltyTier(Base):
    __tablename__ = "loyalty_tiers"
    __table_args__ = (UniqueConstraint("shop_id", "name"),)
    # The tier's name ("Gold"), chosen by the merchant; whether the tier grants a birthday gift.
    __not_pii__ = ("name", "birthday_gift")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))
    free_shipping_days: Mapped[bool] = mapped_column(Boolean, default=False)
    birthday_gift: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_support: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoyaltyAccount(Base):
    """One customer of one shop: the balance row every ledger entry updates in its transaction."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        UniqueConstraint("shop_id", "customer_external_id"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
    )
    __pii__ = ("customer_external_id", "email", "birthday", "locale")
    __customer_match__ = ("customer_external_id", "email")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_external_id: Mapped[str | None] = mapped_column(String(64))  # gid://shopify/Customer/N
    email: Mapped[str | None] = mapped_column(String(320))  # where notices go
    locale: Mapped[str | None] = mapped_column(String(16))
    birthday: Mapped[str | None] = mapped_column(String(5), index=True)  # MM-DD, never the year
    balance: Mapped[int] = mapped_column(Points, default=0)
    lifetime_earned: Mapped[int] = mapped_column(Points, default=0)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tiers.id", ondelete="SET NULL"), index=True)
    tier_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Points, default=0)  # bumped under the row lock
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoyaltyEntry(Base):
    """Append-only. ``points`` is signed; the account's balance is the sum of its entries.
    (source, source_id, rule) names the event that made it: a repeated event inserts nothing."""

    __tablename__ = "loyalty_entries"
    __table_args__ = (
        UniqueConstraint("shop_id", "source", "source_id", "rule"),
        Index("ix_loyalty_entries_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # earn | redeem | expire | adjust | reverse
    points: Mapped[int] = mapped_column(Points)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # the money it was computed on
    source: Mapped[str] = mapped_column(String(16))  # shipment, order, reward, lot, account, admin
    source_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(48))  # purchase, feedback, signup, birthday:2026, ...
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_entries.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict | None] = mapped_column(JSON)  # earn: {"lines": [[sku, qty, value]], "local": true}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoyaltyLot(Base):
    """Points credited together, spent oldest first, expiring together."""

    __tablename__ = "loyalty_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        # Only lots with points left are ever scanned: the index stays small however long the history.
        Index("ix_loyalty_lots_open", "account_id", "id", postgresql_where=text("remaining > 0"),
              sqlite_where=text("remaining > 0")),
        Index("ix_loyalty_lots_expiring", "expires_at", postgresql_where=text("remaining > 0"),
              sqlite_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id", ondelete="CASCADE"), unique=True)
    points: Mapped[int] = mapped_column(Points)
    remaining: Mapped[int] = mapped_column(Points)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoyaltyLotUse(Base):
    """Which lots a debit took its points from (so a returned redemption refills the same lots)."""

    __tablename__ = "loyalty_lot_uses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id", ondelete="CASCADE"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("loyalty_lots.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(Points)


class LoyaltyMonth(Base):
    """Qualifying points and spend per account per calendar month: a tier reads at most 12 rows."""

    __tablename__ = "loyalty_months"
    __table_args__ = (UniqueConstraint("account_id", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    month: Mapped[int] = mapped_column(Integer)  # year * 12 + month - 1
    points: Mapped[int] = mapped_column(Points, default=0)
    spend: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))


class RewardStatus:
    PENDING = "pending"  # points held (redemptions), code not yet at Shopify
    ISSUED = "issued"  # the code exists at Shopify
    FAILED = "failed"  # Shopify refused it for good; held points returned
    USED = "used"  # expired after being used
    RETURNED = "returned"  # expired unused; held points returned
    EXPIRED = "expired"  # a perk that lapsed (no points to return)


class LoyaltyReward(Base):
    """A discount code for one customer: a redemption (``kind`` reward, points held) or a perk
    (free_shipping for a member day, birthday_gift for a year), unique per period."""

    __tablename__ = "loyalty_rewards"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "period"),
        UniqueConstraint("account_id", "request_key"),
        UniqueConstraint("shop_id", "code"),
        Index("ix_loyalty_rewards_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # reward | free_shipping | birthday_gift
    period: Mapped[str | None] = mapped_column(String(16))  # perks: the member day or the year
    request_key: Mapped[str | None] = mapped_column(String(64))  # the storefront's idempotency key
    points: Mapped[int] = mapped_column(Points, default=0)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    code: Mapped[str | None] = mapped_column(String(64))
    shopify_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=RewardStatus.PENDING)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoyaltyRefund(Base):
    """A Shopify refund, once: what it refunded, for reversing the points of its order."""

    __tablename__ = "loyalty_refunds"
    __table_args__ = (UniqueConstraint("shop_id", "external_id"), Index("ix_loyalty_refunds_order", "shop_id",
                                                                          "order_external_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))  # gid://shopify/Refund/N
    order_external_id: Mapped[str] = mapped_column(String(64))
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [[sku, quantity], ...]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))  # not tied to lines
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoyaltyAdjustment(Base):
    """A manual adjustment by the merchant: who, why (required), for the audit trail."""

    __tablename__ = "loyalty_adjustments"
    __pii__ = ("customer_external_id", "reason")  # a reason may name the customer
    __customer_match__ = ("customer_external_id",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id", ondelete="CASCADE"), unique=True)
    customer_external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    points: Mapped[int] = mapped_column(Points)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))  # the Shopify staff user id of the session
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = [
    "LoyaltyAccount",
    "LoyaltyAdjustment",
    "LoyaltyEntry",
    "LoyaltyLot",
    "LoyaltyLotUse",
    "LoyaltyMonth",
    "LoyaltyProgram",
    "LoyaltyRefund",
    "LoyaltyReward",
    "LoyaltyTier",
    "RewardStatus",
]
