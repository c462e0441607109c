"""Shared builders and checks for the loyalty tests (no tests here).

``loyalty_app``: the test app with the loyalty blueprints registered and the earning receivers
connected (the lines the integration adds to ``views.register`` and ``subscriptions``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jwt
import pytest
from sqlalchemy import func, select

from connectors.shopify.signatures import proxy_signature
from integration.extensions import db
from integration.models import Order, OrderLine, OutboundOrder, Shipment, Shop
from integration.models.loyalty import (
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    LoyaltyLotUse,
    LoyaltyProgram,
    LoyaltyTier,
)
from tests.conftest import API_KEY, API_SECRET

SHOP = "acme.myshopify.com"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def gid(n: int) -> str:
    return f"gid://shopify/Customer/{n}"


@pytest.fixture
def loyalty_app(app):
    wire(app)
    return app


def wire(app) -> None:
    """The loyalty blueprints (create_app registers them and wires the receivers already)."""
    from integration.views import loyalty_api, proxy_loyalty

    for bp in (loyalty_api.bp, proxy_loyalty.bp):
        if bp.name not in app.blueprints:
            app.register_blueprint(bp)


def make_shop(domain: str = SHOP, currency: str = "EUR") -> Shop:
    shop = Shop(domain=domain, access_token="shpat_test", status="installed", currency=currency)
    db.session.add(shop)
    db.session.commit()
    return shop


def make_program(shop_id: int, **values) -> LoyaltyProgram:
    defaults = {"enabled": True, "points_per_currency": Decimal(1), "local_multiplier": Decimal(2),
                "earn_on": "shipped", "points_expiry_days": 365, "signup_bonus": 0, "birthday_bonus": 0,
                "feedback_bonus": 0, "tier_basis": "points", "member_days": [],
                "reward_options": [{"points": 100, "amount": "5.00"}, {"points": 500, "amount": "30.00"}],
                "reward_expiry_days": 30, "birthday_gift": None}
    program = LoyaltyProgram(shop_id=shop_id, **{**defaults, **values})
    db.session.add(program)
    db.session.commit()
    return program


def make_tiers(shop_id: int, *tiers: dict) -> list[LoyaltyTier]:
    rows = [LoyaltyTier(shop_id=shop_id, **{"multiplier": Decimal(1), **t}) for t in tiers]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def shipped_order(shop: Shop, warehouse, *, customer: str | None, country: str = "DE",
                  lines=(("MUG", 2, "12.50"),), total: str | None = None, email: str = "ada@example.com",
                  shipped_at: datetime | None = None, external_id: str | None = None) -> tuple[Order, Shipment]:
    """An order (lines: sku, quantity, unit price) shipped in one parcel from ``warehouse``."""
    n = db.session.scalar(select(func.count()).select_from(Order)) + 1
    value = sum(Decimal(p) * q for _, q, p in lines)
    order = Order(shop_id=shop.id, external_id=external_id or f"gid://shopify/Order/{1000 + n}", name=f"#{1000 + n}",
                  customer_external_id=customer, email=email, shipping_country=country, currency="EUR",
                  total_price=Decimal(total) if total else value, locale="de")
    db.session.add(order)
    db.session.flush()
    for i, (sku, qty, price) in enumerate(lines):
        db.session.add(OrderLine(order_id=order.id, external_id=f"gid://shopify/LineItem/{order.id * 100 + i}",
                                 sku=sku, quantity=qty, price=Decimal(price), name=sku))
    outbound = OutboundOrder(shop_id=shop.id, order_id=order.id, warehouse_id=warehouse.id,
                             reference=f"NS{order.id:08d}W{warehouse.id}", status="shipped")
    db.session.add(outbound)
    db.session.flush()
    shipment = Shipment(shop_id=shop.id, order_id=order.id, outbound_id=outbound.id, tracking_number=f"TRK{order.id}",
                        lines=[[sku, qty] for sku, qty, _ in lines], shipped_at=shipped_at or T0,
                        status="InTransit")
    db.session.add(shipment)
    db.session.commit()
    return order, shipment


def session_token(shop: str = SHOP, user: str = "42") -> str:
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": API_KEY, "sub": user,
              "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": "j-1", "sid": "s-1"}
    return jwt.encode(claims, API_SECRET, algorithm="HS256")


def auth(shop: str = SHOP) -> dict:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def proxy_query(customer: int | None, *, shop: str = SHOP, secret: str = API_SECRET, **extra) -> str:
    from urllib.parse import urlencode

    params = {"shop": shop, "path_prefix": "/apps/nearstock", "timestamp": str(int(time.time())),
              "logged_in_customer_id": "" if customer is None else str(customer), **extra}
    params["signature"] = proxy_signature(params, secret)
    return urlencode(params)


def account_of(shop_id: int, customer: str) -> LoyaltyAccount | None:
    db.session.expire_all()
    return db.session.execute(select(LoyaltyAccount).where(
        LoyaltyAccount.shop_id == shop_id, LoyaltyAccount.customer_external_id == customer)).scalar_one_or_none()


def entries_of(account_id: int) -> list[LoyaltyEntry]:
    return list(db.session.execute(select(LoyaltyEntry).where(LoyaltyEntry.account_id == account_id)
                                   .order_by(LoyaltyEntry.id)).scalars())


def check_invariants(account_id: int) -> int:
    """balance == sum of entries == sum of open lots >= 0; each debit's lot uses add up to it;
    no earn reversed beyond its points. Returns the balance."""
    db.session.expire_all()
    account = db.session.get(LoyaltyAccount, account_id)
    entries = entries_of(account_id)
    lots = list(db.session.execute(select(LoyaltyLot).where(LoyaltyLot.account_id == account_id)).scalars())
    assert account.balance >= 0
    assert account.balance == sum(e.points for e in entries)
    assert account.balance == sum(lot.remaining for lot in lots)
    assert all(0 <= lot.remaining <= lot.points for lot in lots)
    uses: dict[int, int] = {}
    for entry_id, points in db.session.execute(select(LoyaltyLotUse.entry_id, LoyaltyLotUse.points).join(
            LoyaltyEntry, LoyaltyEntry.id == LoyaltyLotUse.entry_id).where(LoyaltyEntry.account_id == account_id)):
        uses[entry_id] = uses.get(entry_id, 0) + points
    for e in entries:
        if e.points < 0:
            assert uses.get(e.id, 0) == -e.points, f"entry {e.id} took {uses.get(e.id)} from lots, not {-e.points}"
    by_id = {e.id: e for e in entries}
    reversed_: dict[int, int] = {}
    for e in entries:
        if e.reverses_id is not None and by_id.get(e.reverses_id) is not None and by_id[e.reverses_id].kind == "earn":
            reversed_[e.reverses_id] = reversed_.get(e.reverses_id, 0) - e.points
    for earn_id, total in reversed_.items():
        assert 0 < total <= by_id[earn_id].points
    return account.balance


def later(days: float) -> datetime:
    return T0 + timedelta(days=days)
