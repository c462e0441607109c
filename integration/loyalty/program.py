"""A shop's loyalty program: its rules and tiers as the domain sees them, the merchant's edits
(validated field by field), and the JSON shapes the admin and the storefront get."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select

from integration.domain import loyalty as domain
from integration.extensions import db
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyProgram, LoyaltyTier

MAX_TIERS = 10
MAX_OPTIONS = 10


class ProgramError(ValueError):
    """The merchant's input is invalid: ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- reading ------------------------------------------------------------------------------------


def load_rules(shop_id: int) -> domain.ProgramRules:
    program = db.session.execute(select(LoyaltyProgram).where(LoyaltyProgram.shop_id == shop_id)).scalar_one_or_none()
    tiers = db.session.execute(select(LoyaltyTier).where(LoyaltyTier.shop_id == shop_id)
                               .order_by(LoyaltyTier.threshold, LoyaltyTier.id)).scalars().all()
    return rules_from(program, tiers)


def rules_from(program: LoyaltyProgram | None, tiers: list[LoyaltyTier]) -> domain.ProgramRules:
    tier_rules = tuple(domain.TierRule(id=t.id, name=t.name, threshold=Decimal(t.threshold),
                                       multiplier=Decimal(t.multiplier), free_shipping_days=t.free_shipping_days,
                                       birthday_gift=t.birthday_gift, priority_support=t.priority_support)
                       for t in tiers)
    if program is None:
        return domain.ProgramRules(tiers=tier_rules)
    gift = _option({"points": 0, **program.birthday_gift}) if program.birthday_gift else None
    return domain.ProgramRules(
        enabled=program.enabled,
        points_per_currency=Decimal(program.points_per_currency),
        local_multiplier=Decimal(program.local_multiplier),
        earn_on=program.earn_on,
        points_expiry_days=program.points_expiry_days,
        signup_bonus=program.signup_bonus,
        birthday_bonus=program.birthday_bonus,
        feedback_bonus=program.feedback_bonus,
        tier_basis=program.tier_basis,
        member_days=tuple(program.member_days or ()),
        reward_options=tuple(_option(o) for o in program.reward_options or ()),
        reward_expiry_days=program.reward_expiry_days,
        birthday_gift=gift,
        tiers=tier_rules,
    )


def _option(raw: dict) -> domain.RewardOption:
    amount = raw.get("amount")
    percentage = raw.get("percentage")
    return domain.RewardOption(points=int(raw.get("points") or 0),
                               amount=Decimal(str(amount)) if amount is not None else None,
                               percentage=Decimal(str(percentage)) if percentage is not None else None)


# -- JSON ---------------------------------------------------------------------------------------


def num(value: Decimal) -> str:
    """``2`` rather than ``2.0000``, ``1000`` rather than ``1E+3``."""
    text = f"{Decimal(value).normalize():f}"
    return text


def option_json(option: domain.RewardOption) -> dict:
    out: dict[str, Any] = {"points": option.points}
    if option.amount is not None:
        out["amount"] = str(option.amount)
    if option.percentage is not None:
        out["percentage"] = num(option.percentage)
    return out


def tier_json(tier: domain.TierRule) -> dict:
    return {"id": tier.id, "name": tier.name, "threshold": num(tier.threshold), "multiplier": num(tier.multiplier),
            "free_shipping_days": tier.free_shipping_days, "birthday_gift": tier.birthday_gift,
            "priority_support": tier.priority_support}


def program_json(rules: domain.ProgramRules) -> dict:
    gift = rules.birthday_gift
    return {
        "enabled": rules.enabled,
        "points_per_currency": num(rules.points_per_currency),
        "local_multiplier": num(rules.local_multiplier),
        "earn_on": rules.earn_on,
        "points_expiry_days": rules.points_expiry_days,
        "signup_bonus": rules.signup_bonus,
        "birthday_bonus": rules.birthday_bonus,
        "feedback_bonus": rules.feedback_bonus,
        "tier_basis": rules.tier_basis,
        "member_days": list(rules.member_days),
        "reward_options": [option_json(o) for o in rules.reward_options],
        "reward_expiry_days": rules.reward_expiry_days,
        "birthday_gift": {k: v for k, v in option_json(gift).items() if k != "points"} if gift else None,
    }


# -- writing ------------------------------------------------------------------------------------

_INTS = {"points_expiry_days": (0, 3650), "signup_bonus": (0, 1_000_000), "birthday_bonus": (0, 1_000_000),
         "feedback_bonus": (0, 1_000_000), "reward_expiry_days": (1, 3650)}
_DECIMALS = {"points_per_currency": (Decimal(0), Decimal(10_000)), "local_multiplier": (Decimal(1), Decimal(100))}


def update_program(shop_id: int, data: dict) -> domain.ProgramRules:
    """Apply the fields present in ``data`` (others keep their value); flushes, the caller commits."""
    program = db.session.execute(select(LoyaltyProgram).where(LoyaltyProgram.shop_id == shop_id)).scalar_one_or_none()
    if program is None:
        program = LoyaltyProgram(shop_id=shop_id, enabled=False, points_per_currency=Decimal(1),
                                 local_multiplier=Decimal(2), earn_on="shipped", points_expiry_days=365,
                                 signup_bonus=0, birthday_bonus=0, feedback_bonus=0, tier_basis="points",
                                 member_days=[], reward_options=[], reward_expiry_days=30, birthday_gift=None)
        db.session.add(program)
    unknown = set(data) - {*_INTS, *_DECIMALS, "enabled", "earn_on", "tier_basis", "member_days", "reward_options",
                           "birthday_gift"}
    if unknown:
        raise ProgramError(sorted(unknown)[0], "unknown field")
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise ProgramError("enabled", "must be true or false")
        program.enabled = data["enabled"]
    for name, (low, high) in _INTS.items():
        if name in data:
            setattr(program, name, _int(name, data[name], low, high))
    for name, (low, high) in _DECIMALS.items():
        if name in data:
            setattr(program, name, _decimal(name, data[name], low, high))
    for name, allowed in (("earn_on", domain.EARN_ON), ("tier_basis", domain.TIER_BASES)):
        if name in data:
            if data[name] not in allowed:
                raise ProgramError(name, f"must be one of {', '.join(allowed)}")
            setattr(program, name, data[name])
    if "member_days" in data:
        if not isinstance(data["member_days"], list) or len(data["member_days"]) > 31:
            raise ProgramError("member_days", "must be a list of at most 31 days")
        try:
            program.member_days = list(domain.validate_member_days(data["member_days"]))
        except ValueError as exc:
            raise ProgramError("member_days", str(exc)) from None
    if "reward_options" in data:
        options = data["reward_options"]
        if not isinstance(options, list) or len(options) > MAX_OPTIONS:
            raise ProgramError("reward_options", f"must be a list of at most {MAX_OPTIONS} options")
        parsed = [_reward_option(f"reward_options[{i}]", o, need_points=True) for i, o in enumerate(options)]
        if len({o["points"] for o in parsed}) != len(parsed):
            raise ProgramError("reward_options", "two options cost the same points")
        program.reward_options = sorted(parsed, key=lambda o: o["points"])
    if "birthday_gift" in data:
        gift = data["birthday_gift"]
        program.birthday_gift = None if gift is None else {
            k: v for k, v in _reward_option("birthday_gift", gift, need_points=False).items() if k != "points"}
    program.updated_at = utcnow()
    db.session.flush()
    return load_rules(shop_id)


def replace_tiers(shop_id: int, tiers: Any) -> domain.ProgramRules:
    """Make the shop's tiers exactly ``tiers`` (matched by name, so accounts keep theirs)."""
    if not isinstance(tiers, list) or len(tiers) > MAX_TIERS:
        raise ProgramError("tiers", f"must be a list of at most {MAX_TIERS} tiers")
    wanted = {}
    for i, raw in enumerate(tiers):
        where = f"tiers[{i}]"
        if not isinstance(raw, dict):
            raise ProgramError(where, "must be an object")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
            raise ProgramError(f"{where}.name", "a name of 1 to 64 characters is required")
        name = name.strip()
        if name in wanted:
            raise ProgramError(f"{where}.name", "two tiers have this name")
        values = {
            "threshold": _decimal(f"{where}.threshold", raw.get("threshold", 0), Decimal(0), Decimal(10) ** 11),
            "multiplier": _decimal(f"{where}.multiplier", raw.get("multiplier", 1), Decimal(1), Decimal(100)),
        }
        for flag in ("free_shipping_days", "birthday_gift", "priority_support"):
            value = raw.get(flag, False)
            if not isinstance(value, bool):
                raise ProgramError(f"{where}.{flag}", "must be true or false")
            values[flag] = value
        wanted[name] = values
    if len({v["threshold"] for v in wanted.values()}) != len(wanted):
        raise ProgramError("tiers", "two tiers have the same threshold")
    existing = {t.name: t for t in db.session.execute(
        select(LoyaltyTier).where(LoyaltyTier.shop_id == shop_id)).scalars()}
    gone = [t.id for name, t in existing.items() if name not in wanted]
    if gone:
        db.session.execute(delete(LoyaltyTier).where(LoyaltyTier.id.in_(gone)))
    for name, values in wanted.items():
        tier = existing.get(name)
        if tier is None:
            db.session.add(LoyaltyTier(shop_id=shop_id, name=name, **values))
        else:
            for key, value in values.items():
                setattr(tier, key, value)
    db.session.flush()
    return load_rules(shop_id)


def _reward_option(where: str, raw: Any, *, need_points: bool) -> dict:
    if not isinstance(raw, dict):
        raise ProgramError(where, "must be an object")
    out: dict[str, Any] = {"points": _int(f"{where}.points", raw.get("points"), 1, 10**9) if need_points else 0}
    has_amount, has_percentage = raw.get("amount") is not None, raw.get("percentage") is not None
    if has_amount == has_percentage:
        raise ProgramError(where, "give exactly one of amount or percentage")
    if has_amount:
        out["amount"] = str(_decimal(f"{where}.amount", raw["amount"], Decimal("0.01"), Decimal(100_000))
                            .quantize(Decimal("0.01")))
    else:
        out["percentage"] = str(_decimal(f"{where}.percentage", raw["percentage"], Decimal("0.01"), Decimal(1)))
    return out


def _int(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProgramError(field, f"must be a whole number from {low} to {high}")
    return value


def _decimal(field: str, value: Any, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProgramError(field, "must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ProgramError(field, "must be a number") from None
    if not number.is_finite() or not low <= number <= high:
        raise ProgramError(field, f"must be from {low} to {high}")
    return number
