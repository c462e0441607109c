"""A busy shop for bench/admin.py: warehouses, a catalog with stock in each, months of orders with
their routing, parcels, notices, loyalty members and ratings, and the insights computed from them.
Written with bulk inserts (the real pipeline would take an hour for 10,000 orders); the rows are
the ones the pipeline writes."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from integration.extensions import db
from integration.models import (
    Allocation,
    DemandDay,
    DemandShift,
    InsightSeries,
    Location,
    Notification,
    Order,
    OrderFeedback,
    OrderLine,
    OutboundOrder,
    RestockSuggestion,
    Shipment,
    StockLevel,
    TestSaleGate,
    TransferSuggestion,
    Variant,
    Warehouse,
    WarehouseAccount,
)
from integration.models.allocation import AllocationStatus, OutboundState
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyAccount

# (code, name, country, region): four local hubs, as a merchant selling in Europe and the US has.
WAREHOUSES = (("DE-BER", "WINIT Berlin", "DE", "EU"), ("FR-LYS", "Goodcang Lyon", "FR", "EU"),
              ("US-LAX", "ShipBob Los Angeles", "US", "NA"), ("GB-LHR", "WINIT London", "GB", "EU"))
COUNTRIES = ("DE", "DE", "DE", "FR", "FR", "US", "US", "GB", "NL", "AT")
CHUNK = 2_000


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start:start + CHUNK])


def _ids(model, shop_id: int, order_by) -> list[int]:
    return list(db.session.execute(select(model.id).where(model.shop_id == shop_id).order_by(order_by)).scalars())


def seed_warehouses(shop_id: int) -> list[int]:
    account = WarehouseAccount(shop_id=shop_id, provider="winit", name="WINIT Europe",
                               credentials='{"app_key": "bench", "token": "bench", "client_secret": "bench"}')
    db.session.add(account)
    db.session.flush()
    for i, (code, name, country, region) in enumerate(WAREHOUSES):
        location = f"gid://shopify/Location/{9000 + i}"
        db.session.add(Location(shop_id=shop_id, shopify_id=location, name=name, country_code=country))
        db.session.add(Warehouse(shop_id=shop_id, account_id=account.id, code=code, name=name, country_code=country,
                                 region=region, location_shopify_id=location, handling_hours=24,
                                 transit_days={country: [1, 3], "*": [5, 10]}, priority=100 + i))
    db.session.flush()
    return _ids(Warehouse, shop_id, Warehouse.id)


def seed_catalog(shop_id: int, warehouses: list[int], skus: int, rng: random.Random) -> list[str]:
    now = utcnow()
    codes = [f"SKU-{n:05d}" for n in range(skus)]
    _bulk(Variant, [{"shop_id": shop_id, "shopify_id": f"gid://shopify/ProductVariant/{10_000 + n}",
                     "product_shopify_id": f"gid://shopify/Product/{1_000 + n // 4}",
                     "inventory_item_id": f"gid://shopify/InventoryItem/{10_000 + n}", "sku": code,
                     "title": f"Trail item {n // 4} / {('S', 'M', 'L', 'XL')[n % 4]}", "created_at": now}
                    for n, code in enumerate(codes)])
    _bulk(StockLevel, [{"shop_id": shop_id, "warehouse_id": w, "sku": code, "on_hand": rng.choice((0, 2, 5, 40, 120)),
                        "reserved": rng.randint(0, 3), "inbound": rng.choice((0, 0, 50)), "on_hand_as_of": now,
                        "updated_at": now} for code in codes for w in warehouses])
    return codes


def seed_orders(shop_id: int, warehouses: list[int], skus: list[str], orders: int, rng: random.Random) -> None:
    now = utcnow()
    _bulk(Order, [{"shop_id": shop_id, "channel": "shopify", "external_id": f"gid://shopify/Order/{50_000 + n}",
                   "name": f"#{1001 + n}", "customer_external_id": f"gid://shopify/Customer/{n % 3000}",
                   "email": f"customer{n % 3000}@example.com", "customer_name": f"Customer {n % 3000}",
                   "shipping_country": rng.choice(COUNTRIES), "locale": "de", "currency": "EUR",
                   "total_price": Decimal(rng.randint(1500, 25000)) / 100, "financial_status": "paid",
                   "fulfillment_status": None, "external_created_at": now - timedelta(minutes=30 * (orders - n)),
                   "created_at": now - timedelta(minutes=30 * (orders - n))} for n in range(orders)])
    order_ids = _ids(Order, shop_id, Order.id)
    lines, outbound_rows = [], []
    plan = []
    for n, order_id in enumerate(order_ids):
        warehouse = warehouses[n % len(warehouses)]
        count = rng.choice((1, 1, 2, 3))
        shipped = n % 10 < 7
        picks = [(rng.choice(skus), rng.randint(1, 3)) for _ in range(count)]
        plan.append((order_id, warehouse, shipped, picks))
        for i, (sku, qty) in enumerate(plan[-1][3]):
            lines.append({"order_id": order_id, "external_id": f"gid://shopify/LineItem/{order_id * 10 + i}",
                          "sku": sku, "name": sku, "quantity": qty, "price": Decimal("24.90")})
        created = now - timedelta(minutes=30 * (orders - n))
        outbound_rows.append({"shop_id": shop_id, "order_id": order_id, "warehouse_id": warehouse,
                              "reference": f"NS-{shop_id}-{order_id}",
                              "status": OutboundState.SHIPPED if shipped else OutboundState.PUSHED,
                              "external_id": f"WO{order_id}", "attempts": 1, "pushed_at": created,
                              "sla_due_at": created + timedelta(hours=24),
                              "shipped_at": created + timedelta(hours=20) if shipped else None,
                              "created_at": created, "updated_at": created})
    _bulk(OrderLine, lines)
    _bulk(OutboundOrder, outbound_rows)
    line_ids = iter(_ids_of_lines(order_ids))
    outbound_ids = dict(db.session.execute(select(OutboundOrder.order_id, OutboundOrder.id)
                                           .where(OutboundOrder.shop_id == shop_id)).all())
    allocations, shipments = [], []
    for order_id, warehouse, shipped, order_lines in plan:
        for sku, qty in order_lines:
            allocations.append({"shop_id": shop_id, "order_id": order_id, "order_line_id": next(line_ids),
                                "warehouse_id": warehouse, "outbound_id": outbound_ids[order_id], "sku": sku,
                                "quantity": qty, "reason": "local", "route_reason": "local",
                                "status": AllocationStatus.SHIPPED if shipped else AllocationStatus.RESERVED,
                                "created_at": now, "updated_at": now})
    _bulk(Allocation, allocations)
    for order_id, _warehouse, shipped, order_lines in plan:
        if shipped:
            shipments.append({"shop_id": shop_id, "order_id": order_id, "outbound_id": outbound_ids[order_id],
                              "tracking_number": f"00340{order_id:09d}", "carrier": "DHL",
                              "tracking_url": f"https://www.dhl.de/track?piececode=00340{order_id:09d}",
                              "lines": [[sku, qty] for sku, qty in order_lines], "shipped_at": now,
                              "status": "Delivered" if order_id % 10 < 5 else "InTransit", "created_at": now})
    _bulk(Shipment, shipments)


def _ids_of_lines(order_ids: list[int]) -> list[int]:
    ids = []
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start:start + CHUNK]
        ids += db.session.execute(select(OrderLine.id).where(OrderLine.order_id.in_(chunk))
                                  .order_by(OrderLine.order_id, OrderLine.id)).scalars()
    return ids


def seed_customers(shop_id: int, orders: int, rng: random.Random) -> None:
    now = utcnow()
    members = min(3000, orders)
    _bulk(LoyaltyAccount, [{"shop_id": shop_id, "customer_external_id": f"gid://shopify/Customer/{n}",
                            "email": f"customer{n}@example.com", "locale": "de", "balance": rng.randint(0, 900),
                            "lifetime_earned": rng.randint(900, 2000)} for n in range(members)])
    order_ids = _ids(Order, shop_id, Order.id)
    _bulk(Notification, [{"shop_id": shop_id, "kind": "shipped", "subject": f"order:{order_id}",
                          "recipient": f"customer{n % 3000}@example.com", "locale": "de", "context": {},
                          "status": "sent" if n % 50 else "failed", "attempts": 1, "created_at": now,
                          "updated_at": now, "sent_at": now if n % 50 else None}
                         for n, order_id in enumerate(order_ids)])
    _bulk(OrderFeedback, [{"shop_id": shop_id, "order_id": order_id, "email": f"customer{n % 3000}@example.com",
                           "rating": rng.choice((3, 4, 5, 5, 5, 2)), "comment": "Schnelle Lieferung aus Berlin.",
                           "created_at": now - timedelta(days=n % 60), "updated_at": now}
                          for n, order_id in enumerate(order_ids) if n % 4 == 0])

INSIGHT_SKUS, INSIGHT_DAYS = 200, 56


def seed_insights(shop_id: int, warehouses: list[int], skus: list[str], rng: random.Random) -> None:
    """What the nightly computation leaves for the Insights page: eight weeks of demand (a few
    stock-out days) for the first SKUs at every warehouse, their forecasts, and the shifts,
    restock and transfer suggestions and test-sale gates found in them."""
    today, now = utcnow().date(), utcnow()
    pairs = [(w, sku) for sku in skus[:INSIGHT_SKUS] for w in warehouses]
    _bulk(DemandDay, [{"shop_id": shop_id, "warehouse_id": w, "sku": sku, "day": today - timedelta(days=ago),
                       "units": rng.randint(0, 9), "cancelled": rng.choice((0, 0, 0, 1)),
                       "censored": rng.random() < 0.05, "promo": False}
                      for w, sku in pairs for ago in range(INSIGHT_DAYS)])
    _bulk(InsightSeries, [{"shop_id": shop_id, "warehouse_id": w, "sku": sku, "dirty": False, "computed_at": now,
                           "forecast_daily": 4.5, "forecast_sd": 1.5, "available": 40, "days_of_cover": 8.9,
                           "baseline_daily": 4.0, "recent_daily": 5.0, "created_at": now, "updated_at": now}
                          for w, sku in pairs])
    _bulk(DemandShift, [{"shop_id": shop_id, "warehouse_id": w, "sku": sku, "direction": ("rise", "fall")[n % 2],
                         "detected_on": today - timedelta(days=n % 14), "change_pct": (35.0, -32.0)[n % 2],
                         "baseline_daily": 4.0, "recent_daily": (5.4, 2.7)[n % 2], "created_at": now, "updated_at": now}
                        for n, (w, sku) in enumerate(pairs[::10])])
    _bulk(RestockSuggestion, [{"shop_id": shop_id, "warehouse_id": w, "sku": sku, "policy": "nearstock",
                               "quantity": rng.randint(20, 400), "order_up_to": 450,
                               "order_by": today + timedelta(days=n % 20), "forecast_daily": 4.5,
                               "lead_time_days": 33, "status": "open", "created_at": now, "updated_at": now}
                              for n, (w, sku) in enumerate(pairs[::3])])
    _bulk(TransferSuggestion, [{"shop_id": shop_id, "sku": sku, "from_warehouse_id": warehouses[0],
                                "to_warehouse_id": warehouses[1], "quantity": rng.randint(5, 40),
                                "expected_arrival": today + timedelta(days=4), "status": "open",
                                "created_at": now, "updated_at": now} for sku in skus[:INSIGHT_SKUS:20]])
    _bulk(TestSaleGate, [{"shop_id": shop_id, "sku": sku, "market": "NL", "batch_size": 50,
                          "started_on": today - timedelta(days=30), "sessions": 900, "orders": 9 + n,
                          "conversion": (9 + n) / 900, "bad_review_rate": 0.03, "return_rate": 0.02,
                          "verdict": ("testing", "proven", "stop")[n % 3], "created_at": now, "updated_at": now}
                         for n, sku in enumerate(skus[:20])])


def seed_shop(shop_id: int, *, orders: int, skus: int, seed: int = 7) -> None:
    """Everything above for ``shop_id``, in one transaction."""
    rng = random.Random(seed)
    warehouses = seed_warehouses(shop_id)
    codes = seed_catalog(shop_id, warehouses, skus, rng)
    seed_orders(shop_id, warehouses, codes, orders, rng)
    seed_customers(shop_id, orders, rng)
    seed_insights(shop_id, warehouses, codes, rng)
    db.session.commit()
