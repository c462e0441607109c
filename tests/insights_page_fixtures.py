"""Insight rows for the Insights page's tests, written directly (the computation has its own
tests): on top of the stock page's shop (Berlin DE, Lyon FR, Old NL), demand with stock-out days,
two shifts, two restock suggestions, a transfer and two test-sale gates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from integration.extensions import db
from integration.models import (
    DemandDay,
    DemandShift,
    InsightSeries,
    RestockSuggestion,
    Shop,
    TestSaleGate,
    TransferSuggestion,
)
from integration.stock.daily import today
from tests.stock_page_fixtures import LOCATION, SeededStock, seed_stock

CENSORED_DAYS = (3, 4)  # days ago the SKU-A had nothing at Berlin


@dataclass
class SeededInsights:
    stock: SeededStock
    rise: DemandShift
    fall: DemandShift
    restock_de: RestockSuggestion
    restock_fr: RestockSuggestion
    transfer: TransferSuggestion
    proven: TestSaleGate
    stop: TestSaleGate


def seed_insights(shop: Shop, *, location: str = LOCATION) -> SeededInsights:
    stock = seed_stock(shop, location=location)
    de, fr = stock.de, stock.fr
    end = today()
    for ago in range(28):
        censored = ago in CENSORED_DAYS
        db.session.add(DemandDay(shop_id=shop.id, warehouse_id=de.id, sku="SKU-A", day=end - timedelta(days=ago),
                                 units=0 if censored else (6 if ago < 14 else 4), cancelled=1 if ago == 10 else 0,
                                 censored=censored, promo=ago == 20))
    db.session.add(InsightSeries(shop_id=shop.id, warehouse_id=de.id, sku="SKU-A", dirty=False, forecast_daily=5.5,
                                 forecast_sd=1.2, available=15, days_of_cover=2.7, baseline_daily=4.0,
                                 recent_daily=6.0))
    rise = DemandShift(shop_id=shop.id, warehouse_id=de.id, sku="SKU-A", direction="rise",
                       detected_on=end - timedelta(days=2), change_pct=50.0, baseline_daily=4.0, recent_daily=6.0)
    fall = DemandShift(shop_id=shop.id, warehouse_id=fr.id, sku="SKU-B", direction="fall",
                       detected_on=end - timedelta(days=5), change_pct=-40.0, baseline_daily=5.0, recent_daily=3.0,
                       reason="=HYPERLINK(\"http://x\")")  # a hostile reason: the CSV must not run it
    restock_de = RestockSuggestion(shop_id=shop.id, warehouse_id=de.id, sku="SKU-A", quantity=180, order_up_to=200,
                                   order_by=end + timedelta(days=3), forecast_daily=5.5, lead_time_days=33)
    restock_fr = RestockSuggestion(shop_id=shop.id, warehouse_id=fr.id, sku="SKU-B", policy="turnover", quantity=40,
                                   order_up_to=60, order_by=end + timedelta(days=10), forecast_daily=2.0,
                                   lead_time_days=30)
    transfer = TransferSuggestion(shop_id=shop.id, sku="SKU-B", from_warehouse_id=de.id, to_warehouse_id=fr.id,
                                  quantity=12, expected_arrival=end + timedelta(days=4))
    proven = TestSaleGate(shop_id=shop.id, sku="SKU-A", market="FR", batch_size=50, started_on=end - timedelta(days=30),
                          sessions=1000, orders=31, conversion=0.031, bad_review_rate=0.02, return_rate=0.01,
                          verdict="proven")
    stop = TestSaleGate(shop_id=shop.id, sku="SKU-C", market="DE", batch_size=40, started_on=end - timedelta(days=30),
                        sessions=800, orders=8, conversion=0.01, bad_review_rate=0.12, return_rate=0.08, verdict="stop")
    db.session.add_all([rise, fall, restock_de, restock_fr, transfer, proven, stop])
    db.session.commit()
    return SeededInsights(stock, rise, fall, restock_de, restock_fr, transfer, proven, stop)
