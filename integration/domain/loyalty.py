"""Loyalty rules, pure: how many points an order earns, which lots a debit consumes, which tier a
customer is in, how much of an earn a refund takes back, when member days and birthdays fall.

No framework imports: the services feed these functions rows they read and write the results.
Points are whole numbers (rounded down when earned); money is ``Decimal``; datetimes are aware UTC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

EARN, REDEEM, EXPIRE, ADJUST, REVERSE = "earn", "redeem", "expire", "adjust", "reverse"
KINDS = (EARN, REDEEM, EXPIRE, ADJUST, REVERSE)
EARN_ON = ("shipped", "delivered")
TIER_BASES = ("points", "spend")
WINDOW_MONTHS = 12  # tiers look at the current calendar month and the 11 before it
ONE = Decimal(1)


class InsufficientLotsError(ValueError):
    """The open lots hold fewer points than the debit: the ledger's invariant is broken."""


@dataclass(frozen=True)
class TierRule:
    id: int | None
    name: str
    threshold: Decimal  # points (or spend, by the program's basis) over the rolling window
    multiplier: Decimal = ONE  # applied to earned points while in this tier
    free_shipping_days: bool = False  # a free-shipping code for each member day
    birthday_gift: bool = False  # a gift code on the customer's birthday
    priority_support: bool = False  # read by after-sales (has_priority)


@dataclass(frozen=True)
class RewardOption:
    """What ``points`` buy: a fixed ``amount`` off, or a ``percentage`` (0.1 = 10 %) off."""

    points: int
    amount: Decimal | None = None
    percentage: Decimal | None = None


@dataclass(frozen=True)
class ProgramRules:
    enabled: bool = False
    points_per_currency: Decimal = ONE  # per unit of the shop's currency
    local_multiplier: Decimal = Decimal(2)  # shipped from a warehouse in the customer's country
    earn_on: str = "shipped"  # or "delivered"
    points_expiry_days: int = 365  # 0: points never expire
    signup_bonus: int = 0
    birthday_bonus: int = 0
    feedback_bonus: int = 0
    tier_basis: str = "points"  # or "spend"
    member_days: tuple = ()  # days of the month (1-31) and/or ISO dates ("2026-12-24")
    reward_options: tuple[RewardOption, ...] = ()
    reward_expiry_days: int = 30
    birthday_gift: RewardOption | None = None  # points ignored: a gift, not a purchase
    tiers: tuple[TierRule, ...] = field(default=())

    def option_for(self, points: int) -> RewardOption | None:
        return next((o for o in self.reward_options if o.points == points), None)

    def tier(self, tier_id: int | None) -> TierRule | None:
        return next((t for t in self.tiers if t.id == tier_id), None) if tier_id is not None else None


# -- earning ------------------------------------------------------------------------------------


def is_local(warehouse_country: str | None, shipping_country: str | None) -> bool:
    """A warehouse is local to the customer when it is in the order's shipping country."""
    return bool(warehouse_country and shipping_country and warehouse_country.upper() == shipping_country.upper())


def earn_points(amount: Decimal, rules: ProgramRules, *, local: bool, tier_multiplier: Decimal = ONE) -> int:
    """Points for ``amount`` of the shop's currency: rate x local multiplier x tier multiplier,
    rounded down (a fraction of a point is never credited, so reversals never exceed earns)."""
    if amount <= 0:
        return 0
    raw = Decimal(amount) * rules.points_per_currency * (rules.local_multiplier if local else ONE) * tier_multiplier
    return max(0, int(raw.to_integral_value(rounding=ROUND_FLOOR)))


# -- lots ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int


def consume_fifo(lots: Sequence[Lot], points: int, prefer: int | None = None) -> list[tuple[int, int]]:
    """``(lot id, points taken)`` for a debit of ``points``: the ``prefer`` lot first (a reversal
    takes back its own earn's points), then the others oldest first (``lots`` come in that order).
    """
    if points < 0:
        raise ValueError("points must be >= 0")
    ordered = sorted(lots, key=lambda lot: lot.id != prefer) if prefer is not None else list(lots)
    takes, left = [], points
    for lot in ordered:
        if left == 0:
            break
        take = min(left, lot.remaining)
        if take > 0:
            takes.append((lot.id, take))
            left -= take
    if left:
        raise InsufficientLotsError(f"open lots are {left} points short")
    return takes


def lot_expiry(now: datetime, rules: ProgramRules) -> datetime | None:
    return now + timedelta(days=rules.points_expiry_days) if rules.points_expiry_days > 0 else None


# -- tiers --------------------------------------------------------------------------------------


def month_index(moment: datetime | date) -> int:
    return moment.year * 12 + moment.month - 1


def window_start(now: datetime) -> int:
    """The first month (as :func:`month_index`) that counts towards a tier."""
    return month_index(now) - (WINDOW_MONTHS - 1)


def evaluate_tier(tiers: Iterable[TierRule], qualifying: Decimal) -> TierRule | None:
    """The highest tier whose threshold ``qualifying`` reaches (ties: the later-listed one)."""
    best = None
    for tier in sorted(tiers, key=lambda t: t.threshold):
        if qualifying >= tier.threshold:
            best = tier
    return best


def is_upgrade(old: TierRule | None, new: TierRule | None) -> bool:
    if new is None:
        return False
    return old is None or new.threshold > old.threshold


# -- reversals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarnLine:
    sku: str
    quantity: int
    value: Decimal  # this line's share of the earn's amount


@dataclass(frozen=True)
class Earned:
    id: int
    points: int
    amount: Decimal
    shipped_at: datetime | None = None
    lines: tuple[EarnLine, ...] = ()


@dataclass(frozen=True)
class RefundInfo:
    refunded_at: datetime
    lines: tuple[tuple[str, int], ...] = ()  # (sku, quantity) refunded
    amount: Decimal = Decimal(0)  # refunded without naming lines (goodwill, adjustments)
    order_total: Decimal | None = None


def reversal_targets(earns: Sequence[Earned], refunds: Sequence[RefundInfo], *,
                     cancelled: bool) -> dict[int, tuple[int, Decimal]]:
    """How many points (and how much value) of each earn should be reversed in total, given every
    refund of the order so far. Cumulative, so applying it again after a repeated or late event
    adds nothing; the caller reverses ``target - already reversed``.

    A refunded line takes back the earn of the parcel it shipped in, in proportion of the units
    refunded; a refund created before a parcel shipped cannot concern that parcel (the refunded
    units were removed before shipping and never earned). A refund that names no lines takes back
    its share of every parcel shipped by then, in proportion of the order total. A cancellation
    takes back everything.
    """
    if cancelled:
        return {e.id: (e.points, e.amount) for e in earns}
    refunded = {e.id: Decimal(0) for e in earns}
    left: dict[tuple[int, str], int] = {}
    unit: dict[tuple[int, str], Decimal] = {}
    for e in earns:
        for line in e.lines:
            key = (e.id, line.sku)
            left[key] = left.get(key, 0) + line.quantity
            unit[key] = unit.get(key, Decimal(0)) + line.value
    for key, value in unit.items():
        unit[key] = value / left[key] if left[key] else Decimal(0)
    ordered = sorted(earns, key=lambda e: (e.shipped_at or datetime.min.replace(tzinfo=UTC), e.id))
    for refund in sorted(refunds, key=lambda r: r.refunded_at):
        eligible = [e for e in ordered if e.shipped_at is None or e.shipped_at <= refund.refunded_at]
        for sku, quantity in refund.lines:
            want = quantity
            for e in eligible:
                key = (e.id, sku)
                take = min(want, left.get(key, 0))
                if take > 0:
                    refunded[e.id] += unit[key] * take
                    left[key] -= take
                    want -= take
        if refund.amount > 0 and eligible:
            total = refund.order_total or sum((e.amount for e in eligible), Decimal(0))
            if total > 0:
                for e in eligible:
                    refunded[e.id] += e.amount * refund.amount / total
    targets = {}
    for e in earns:
        fraction = min(ONE, refunded[e.id] / e.amount) if e.amount > 0 else Decimal(0)
        points = e.points if fraction >= ONE else int((e.points * fraction).to_integral_value(rounding=ROUND_FLOOR))
        targets[e.id] = (points, (e.amount * fraction).quantize(Decimal("0.01")))
    return targets


# -- calendar -----------------------------------------------------------------------------------


def parse_birthday(value: str | None) -> str | None:
    """``MM-DD`` (a year, if given as ``YYYY-MM-DD``, is dropped: we never need it)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-":
        text = text[5:]
    if len(text) != 5 or text[2] != "-" or not (text[:2] + text[3:]).isdigit():
        raise ValueError("birthday must be MM-DD")
    month, day = int(text[:2]), int(text[3:])
    try:
        date(2000, month, day)  # a leap year: 02-29 is a valid birthday
    except ValueError:
        raise ValueError("birthday must be a real day of the year") from None
    return text


def birthday_keys(today: date) -> tuple[str, ...]:
    """The ``MM-DD`` birthdays celebrated ``today`` (29 February on the 28th in other years)."""
    keys = [today.strftime("%m-%d")]
    if today.month == 2 and today.day == 28:
        try:
            date(today.year, 2, 29)
        except ValueError:
            keys.append("02-29")
    return tuple(keys)


def _member_dates(member_days: Iterable, around: date) -> list[date]:
    out = []
    months = [(around.year, around.month)]
    months.append((around.year + (around.month == 12), around.month % 12 + 1))
    for day in member_days:
        if isinstance(day, int):
            for year, month in months:
                try:
                    out.append(date(year, month, day))
                except ValueError:
                    continue  # the 31st in a 30-day month: no member day that month
        else:
            out.append(date.fromisoformat(str(day)))
    return sorted(set(out))


def member_day_window(member_days: Iterable, now: datetime, lead: timedelta = timedelta(days=1),
                      ) -> tuple[datetime, datetime] | None:
    """The member day (a whole UTC day) that is running or starts within ``lead``, if any."""
    for day in _member_dates(member_days, now.date()):
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        if start - lead <= now < end:
            return start, end
    return None


def validate_member_days(values: Iterable) -> tuple:
    out = []
    for value in values:
        if isinstance(value, bool):
            raise ValueError("member days are days of the month (1-31) or ISO dates")
        if isinstance(value, int):
            if not 1 <= value <= 31:
                raise ValueError("a day of the month is between 1 and 31")
            out.append(value)
        else:
            try:
                out.append(date.fromisoformat(str(value)).isoformat())
            except ValueError:
                raise ValueError(f"not a date: {str(value)[:20]!r}") from None
    return tuple(out)


# -- codes --------------------------------------------------------------------------------------

CODE_PREFIX = {"reward": "NSR", "free_shipping": "NSF", "birthday_gift": "NSB"}


def reward_code(secret: str, shop_domain: str, kind: str, reward_id: int) -> str:
    """The discount code of a reward: fixed by its id (a retried issue finds the same code at
    Shopify instead of making a second) and unguessable without the app's secret."""
    digest = hmac.new(secret.encode(), f"loyalty:{shop_domain}:{kind}:{reward_id}".encode(), hashlib.sha256).digest()
    return f"{CODE_PREFIX.get(kind, 'NS')}-{base64.b32encode(digest).decode()[:12]}"
