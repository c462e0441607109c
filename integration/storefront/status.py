"""The storefront stock status (issue 6): from the stock ledger to what shoppers see.

    ledger commit -> ``warehouse_stock_changed(shop_id, skus)`` -> :func:`on_stock_changed`
        -> SKUs added to the shop's dirty set, one refresh job per shop and burst
        -> :func:`refresh_statuses`: status per variant x market (pure rules in
           :mod:`integration.domain.stock_status`), texts in every storefront language
        -> Redis bodies for the app proxy (every refresh: cheap, self-healing)
        -> the variant's ``$app:nearstock.status`` metafield, only when the document a shopper
           would see changed (``variant_stock_states.digest`` vs ``synced_digest``)
        -> back-in-stock e-mails when a variant comes back (:mod:`storefront_subscriptions`)

The metafield document (JSON), read by the theme app extension's Liquid::

    {"v": 1, "default": "en",
     "markets": {"DE": {"code": "low_stock", "local": true, "ship_from": "DE", "quantity": 3,
                        "eta_days": [2, 4], "arrives_on": null, "subscribe": false,
                        "texts": {"en": {"status": "Only 3 left", "plain": "Low stock",
                                         "eta": "Arrives in 2-4 days"}, "de": {...}}},
                 "*": {...}}}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime

import structlog
from redis.exceptions import LockError, RedisError
from sqlalchemy import select

from connectors.errors import RetryableError
from integration.domain.batching import chunks
from integration.domain.routing import Candidate
from integration.domain.stock_status import (
    ANY_MARKET,
    Policy,
    SkuStatus,
    WarehouseStock,
    restock_budget,
    statuses_for,
)
from integration.extensions import db
from integration.models import Shop, ShopSettings, ShopStatus, StockLevel, Variant, Warehouse
from integration.models.base import utcnow
from integration.models.storefront import VariantStockState
from integration.storefront import cache
from integration.storefront.settings import overrides_for, settings_for
from integration.storefront.texts import SUPPORTED_LOCALES, render, resolve_locale
from integration.storefront.wire import digest_of, encode, variant_gid, variant_number

log = structlog.get_logger(__name__)

CHUNK = 500  # SKUs per locked step of a refresh
# -- what a status depends on ---------------------------------------------------------------------


@dataclass(frozen=True)
class StatusContext:
    """Everything besides the ledger that a shop's statuses depend on, loaded once per job."""

    shop_id: int
    domain: str
    policy: Policy
    safety: int
    buffer: int
    warehouses: Mapping[int, tuple[Candidate, int]]  # live warehouse id -> (candidate, handling hours)
    locales: tuple[str, ...]
    default_locale: str
    extra_markets: tuple[str, ...]
    overrides: Mapping[str, Mapping[str, str]]
    notify_per_unit: float
    back_in_stock: bool
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    @classmethod
    def load(cls, shop: Shop, today: date | None = None) -> StatusContext:
        from integration.orders.allocation import candidates
        from integration.stock.targets import StockContext

        stock = StockContext.load(shop.id)
        shop_settings = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop.id)
                                           ).scalar_one_or_none()
        threshold = shop_settings.low_stock_threshold if shop_settings else 5
        settings = settings_for(shop.id)
        handling = dict(db.session.execute(select(Warehouse.id, Warehouse.handling_hours)
                                           .where(Warehouse.shop_id == shop.id)).all())
        live = {c.id: (c, handling.get(c.id) or 0) for c in candidates(shop.id) if c.id in stock.live}
        locales = tuple(settings.locales or SUPPORTED_LOCALES)
        default = resolve_locale(settings.default_locale or shop.primary_locale, locales[0])
        if default not in locales:
            locales = (*locales, default)
        return cls(shop.id, shop.domain, Policy(max(0, threshold or 0), bool(settings.allow_preorder)),
                   stock.safety, stock.buffer, live, locales, default, tuple(settings.markets or ()),
                   overrides_for(shop.id), float(settings.notify_per_unit or 0), bool(settings.back_in_stock),
                   today or datetime.now(UTC).date())

    def available(self, on_hand: int, reserved: int) -> int:
        return max(0, on_hand - reserved - self.safety - self.buffer)


def compute(ctx: StatusContext, skus: Sequence[str]) -> dict[str, SkuStatus]:
    """sku -> its statuses, from the ledger rows of the live warehouses."""
    stocks: dict[str, list[WarehouseStock]] = {sku: [] for sku in skus}
    if skus and ctx.warehouses:
        rows = db.session.execute(
            select(StockLevel.warehouse_id, StockLevel.sku, StockLevel.on_hand, StockLevel.reserved,
                   StockLevel.inbound, StockLevel.inbound_eta)
            .where(StockLevel.warehouse_id.in_(list(ctx.warehouses)), StockLevel.sku.in_(list(skus)))
        ).all()
        for warehouse_id, sku, on_hand, reserved, inbound, inbound_eta in rows:
            candidate, hours = ctx.warehouses[warehouse_id]
            stocks[sku].append(WarehouseStock(candidate, ctx.available(on_hand, reserved), hours, inbound or 0,
                                              inbound_eta.date() if inbound_eta else None))
    return {sku: statuses_for(sku, stocks[sku], ctx.policy, ctx.today, ctx.extra_markets) for sku in skus}


def document(ctx: StatusContext, status: SkuStatus) -> dict:
    markets = {}
    for market, s in status.markets.items():
        record = s.as_dict()
        record["texts"] = {loc: render(s, market, loc, ctx.overrides) for loc in ctx.locales}
        markets[market] = record
    return {"v": 1, "default": ctx.default_locale, "markets": markets}


def proxy_bodies(doc: dict, variant_id: str) -> dict[str, bytes]:
    """The finished JSON bodies of ``GET /proxy/stock`` for one variant, by ``market:locale``."""
    out: dict[str, bytes] = {}
    for market, record in doc["markets"].items():
        base = {k: v for k, v in record.items() if k != "texts"}
        for locale, texts in record["texts"].items():
            body = json.dumps({"variant_id": variant_id, "market": market, "locale": locale, **base, **texts},
                              separators=(",", ":"), ensure_ascii=False).encode()
            out[f"{market}:{locale}"] = body
            if locale == doc["default"]:
                out[f"{market}:_"] = body
    return out


# -- refreshing -----------------------------------------------------------------------------------


@dataclass
class RefreshStats:
    skus: int = 0
    variants: int = 0
    changed: int = 0  # documents that differ from the last computed one
    cached: int = 0  # variants written to Redis
    metafields: int = 0  # metafields written to Shopify
    metafield_calls: int = 0
    restocks: int = 0
    notified: int = 0
    removed: int = 0  # deleted variants dropped from the cache

    def add(self, other: RefreshStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def on_stock_changed(shop_id: int, skus: Iterable[str], **_: object) -> None:
    """Receiver of ``warehouse_stock_changed`` (sent after the ledger's commit): Redis only."""
    try:
        cache.mark_dirty(shop_id, skus)
    except RedisError as exc:  # the nightly refresh heals what this misses
        log.error("storefront.schedule_failed", shop_id=shop_id, error=repr(exc))


def refresh_all_later(shop_id: int) -> None:
    """Queue every live variant of the shop (settings or texts changed, nightly sweep)."""
    skus = db.session.execute(select(Variant.sku).distinct().where(
        Variant.shop_id == shop_id, Variant.deleted_at.is_(None), Variant.sku.is_not(None))).scalars().all()
    db.session.commit()
    for chunk in chunks(sorted(skus), 5000):
        cache.mark_dirty(shop_id, chunk)


def refresh_statuses(shop_id: int, skus: Sequence[str] | None = None, *, today: date | None = None) -> RefreshStats:
    """Recompute the statuses of ``skus`` (default: the shop's dirty set) and publish them."""
    total = RefreshStats()
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        cache.drop_dirty(shop_id)
        return total
    ctx = StatusContext.load(shop, today)
    if skus is not None:
        for chunk in chunks(sorted(set(skus)), CHUNK):
            total.add(_refresh_chunk(shop, ctx, chunk, ()))
    else:
        cache.clear_pending(shop_id)  # a change marked after this enqueues a new job
        while True:
            chunk, variant_ids = cache.take_dirty(shop_id, CHUNK)
            if not chunk and not variant_ids:
                break
            try:
                total.add(_refresh_chunk(shop, ctx, chunk, variant_ids))
            except BaseException:
                db.session.rollback()
                cache.put_back(shop_id, chunk, variant_ids)  # the retry takes them again
                raise
    log.info("storefront.refreshed", shop_id=shop_id, **total.as_dict())
    return total


def _refresh_chunk(shop: Shop, ctx: StatusContext, skus: Sequence[str], variant_ids: Sequence[str]) -> RefreshStats:
    from integration.storefront import back_in_stock as storefront_subscriptions
    from integration.storefront import metafields as storefront_metafields

    stats = RefreshStats()
    lock = cache.shop_lock(shop.id)
    if not lock.acquire():
        raise RetryableError(f"storefront refresh of shop {shop.id} is busy", retry_after=5, system="nearstock",
                             operation="storefront.refresh")
    try:
        variants = _variants(shop.id, skus, variant_ids)
        live = [v for v in variants if v[2] is None and v[1]]
        gone = [v[0] for v in variants if v[2] is not None or not v[1]]
        sku_list = sorted({v[1] for v in live})
        stats.skus, stats.variants = len(sku_list), len(live)
        statuses = compute(ctx, sku_list)
        docs = {sku: document(ctx, statuses[sku]) for sku in sku_list}
        encoded = {sku: encode(doc) for sku, doc in docs.items()}
        restocked = _store_states(ctx, live, statuses, encoded, stats)
        if restocked and ctx.back_in_stock:
            stats.notified += storefront_subscriptions.notify_restocked(ctx, restocked)
        db.session.commit()
        # After the commit: Redis answers the proxy, Shopify holds the first paint.
        cache.write_statuses(ctx.domain, {variant_number(gid): proxy_bodies(docs[sku], variant_number(gid))
                                          for gid, sku, _deleted, _title in live})
        stats.cached = len(live)
        if gone:
            stats.removed = cache.delete_statuses(ctx.domain, [variant_number(g) for g in gone])
        storefront_metafields.sync(shop, [gid for gid, *_ in live], encoded_by_variant={
            gid: encoded[sku] for gid, sku, *_ in live}, stats=stats)
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("storefront.lock_expired", shop_id=shop.id)
    return stats


def _variants(shop_id: int, skus: Sequence[str], variant_ids: Sequence[str]) -> list[tuple]:
    """(gid, sku, deleted_at, title) of the shop's variants with these SKUs or ids."""
    found: dict[str, tuple] = {}
    if skus:
        for row in db.session.execute(
                select(Variant.shop_id, Variant.shopify_id, Variant.sku, Variant.deleted_at, Variant.title)
                .where(Variant.sku.in_(list(skus)))):
            if row[0] == shop_id:  # filtered here: see stock_targets.shop_variants on SQLite's planner
                found[row[1]] = tuple(row[1:])
    if variant_ids:
        gids = [variant_gid(v) for v in variant_ids if v.isdigit()]
        for row in db.session.execute(
                select(Variant.shopify_id, Variant.sku, Variant.deleted_at, Variant.title)
                .where(Variant.shop_id == shop_id, Variant.shopify_id.in_(gids))):
            found[row[0]] = tuple(row)
    return sorted(found.values())


def _store_states(ctx: StatusContext, live: Sequence[tuple], statuses: Mapping[str, SkuStatus],
                  encoded: Mapping[str, str], stats: RefreshStats) -> list[tuple[str, int, int, int]]:
    """Update each variant's state row; returns the restocks: (variant gid, restock seq, budget,
    units)."""
    gids = [gid for gid, *_ in live]
    states = {s.variant_shopify_id: s for s in db.session.execute(
        select(VariantStockState).where(VariantStockState.shop_id == ctx.shop_id,
                                        VariantStockState.variant_shopify_id.in_(gids))).scalars()}
    restocked = []
    now = utcnow()
    for gid, sku, _deleted, _title in live:
        digest = digest_of(encoded[sku])
        available = statuses[sku].available
        state = states.get(gid)
        if state is None:
            state = VariantStockState(shop_id=ctx.shop_id, variant_shopify_id=gid, sku=sku, digest=digest,
                                      synced_digest=None, available=0, restock_seq=0, updated_at=now)
            db.session.add(state)
            stats.changed += 1
        elif state.digest != digest:
            stats.changed += 1
        previous = state.available or 0
        if previous <= 0 < available:
            state.restock_seq = (state.restock_seq or 0) + 1
            stats.restocks += 1
        budget = restock_budget(previous, available, ctx.notify_per_unit)
        if budget:
            restocked.append((gid, state.restock_seq or 0, budget, available))
        if (state.digest, state.available, state.sku) != (digest, available, sku):
            state.digest, state.available, state.sku, state.updated_at = digest, available, sku, now
    db.session.flush()
    return restocked


def market_of(country: str | None) -> str:
    value = (country or "").strip().upper()
    return value if len(value) == 2 and value.isalpha() else ANY_MARKET
