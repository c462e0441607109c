"""The stock sync engine: warehouse counts -> ledger -> Shopify, against the Shopify emulator.

Counts are fed as StockRecords (the port's dataclass) or through a provider at the port; the
Shopify side is the real connector over HTTP to the emulator, jobs run on real RQ workers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from integration import job_catalog, signals
from integration.extensions import db, queues
from integration.models import Alert, ChannelStock, IntegrationLog, ShopSettings, StockLevel, SyncCursor
from integration.stock import push as stock_push
from integration.stock import reconcile as stock_reconcile
from integration.stock import sync as stock_sync
from integration.stock.ledger import MAX_QUANTITY, apply_account_stock, apply_stock
from tests.jobs.stock_stack import SKUS, T0, FakeProvider, record, stack_fixture  # noqa: F401

# -- ledger ---------------------------------------------------------------------------------------


def test_bad_records_are_rejected_and_the_rest_of_the_batch_proceeds(stack):
    s = stack
    apply_stock(s.de.id, [record("SKU-1", "DEWH", 40)], as_of=T0)
    db.session.execute(update(StockLevel).where(StockLevel.sku == "SKU-1").values(reserved=3))
    db.session.commit()

    result = apply_stock(s.de.id, [
        record("SKU-0", "DEWH", 7),
        record("NOT-IN-SHOPIFY", "DEWH", 3),
        record("SKU-2", "DEWH", -1),
        record("SKU-3", "DEWH", MAX_QUANTITY + 1),
        record("SKU-1", "DEWH", 150_000),  # from 40: a jump no merchant would ever see
        record("SKU-4", "FRWH", 9),  # another warehouse's record in this warehouse's batch
        record("SKU-5", "DEWH", 90_000),  # a first delivery of 90k passes
    ], as_of=T0 + timedelta(minutes=1))

    assert result.changed == ["SKU-0", "SKU-5"]
    assert {(r.sku, r.kind) for r in result.rejected} == {
        ("NOT-IN-SHOPIFY", "unknown_sku"), ("SKU-2", "invalid"), ("SKU-3", "invalid"), ("SKU-1", "invalid"),
        ("SKU-4", "wrong_warehouse")}
    assert s.ledger(s.de, "SKU-0").on_hand == 7
    assert s.ledger(s.de, "SKU-5").on_hand == 90_000
    kept = s.ledger(s.de, "SKU-1")
    assert (kept.on_hand, kept.reserved) == (40, 3)  # rejected: the old count and our reservation stay
    assert s.ledger(s.de, "SKU-2") is None and s.ledger(s.fr, "SKU-4") is None
    logged = db.session.execute(select(IntegrationLog).where(IntegrationLog.operation == "stock.apply")).scalar_one()
    assert logged.status == "failed" and "5 stock record(s) rejected" in logged.error
    assert "NOT-IN-SHOPIFY" in logged.request_excerpt
    alerts = {(a.kind, a.subject) for a in db.session.execute(select(Alert)).scalars()}
    assert ("stock_unknown_sku", f"warehouse:{s.de.id}") in alerts
    assert {("stock_rejected", f"stock:{s.de.id}:{sku}") for sku in ("SKU-1", "SKU-2", "SKU-3")} <= alerts
    assert ("stock_unknown_warehouse", f"account:{s.account.id}:FRWH") in alerts


def test_an_older_snapshot_never_overwrites_a_newer_count(stack):
    s = stack
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 10)], as_of=T0)
    # A shipment recorded locally at T0+10min decremented on_hand (and stamped it).
    db.session.execute(update(StockLevel).where(StockLevel.sku == "SKU-0")
                       .values(on_hand=8, on_hand_as_of=T0 + timedelta(minutes=10)))
    db.session.commit()

    late = apply_stock(s.de.id, [record("SKU-0", "DEWH", 10, as_of=T0 + timedelta(minutes=5))], as_of=T0)
    assert (late.changed, late.stale) == ([], 1)
    assert s.ledger(s.de, "SKU-0").on_hand == 8
    # The same snapshot applied twice (a replayed page) changes nothing the second time.
    fresh = [record("SKU-0", "DEWH", 7, inbound=20)]
    assert apply_stock(s.de.id, fresh, as_of=T0 + timedelta(minutes=20)).changed == ["SKU-0"]
    assert apply_stock(s.de.id, fresh, as_of=T0 + timedelta(minutes=20)).changed == []
    row = s.ledger(s.de, "SKU-0")
    assert (row.on_hand, row.inbound, row.on_hand_as_of) == (7, 20, T0 + timedelta(minutes=20))
    # Same count, newer snapshot: only the stamp moves, so an older copy cannot win afterwards.
    assert apply_stock(s.de.id, fresh, as_of=T0 + timedelta(minutes=30)).changed == []
    assert s.ledger(s.de, "SKU-0").on_hand_as_of == T0 + timedelta(minutes=30)
    assert apply_stock(s.de.id, [record("SKU-0", "DEWH", 99)], as_of=T0 + timedelta(minutes=25)).stale == 1


def test_account_records_are_routed_by_warehouse_code(stack):
    s = stack
    result = apply_account_stock(s.account.id, [record("SKU-0", "DEWH", 4), record("SKU-0", "FRWH", 6),
                                                 record("SKU-0", "XXWH", 1)], as_of=T0)
    assert result.changed == ["SKU-0"]
    assert (s.ledger(s.de, "SKU-0").on_hand, s.ledger(s.fr, "SKU-0").on_hand) == (4, 6)
    assert [r.kind for r in result.rejected] == ["wrong_warehouse"]


def test_changes_are_announced_after_commit_only(stack, monkeypatch):
    s = stack
    heard = []
    monkeypatch.setitem(signals._receivers, signals.WAREHOUSE_STOCK_CHANGED, [lambda **kw: heard.append(kw)])
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 4)], as_of=T0, commit=False)
    assert heard == [] and stock_push.dirty_skus(s.shop.id) == set()
    db.session.rollback()
    assert heard == [] and s.ledger(s.de, "SKU-0") is None
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 4), record("SKU-1", "DEWH", 2)], as_of=T0)
    assert heard == [{"shop_id": s.shop.id, "skus": ("SKU-0", "SKU-1")}]
    assert stock_push.dirty_skus(s.shop.id) == {"SKU-0", "SKU-1"}


# -- push -----------------------------------------------------------------------------------------


def test_push_sends_only_changed_values(stack):
    s = stack
    db.session.execute(update(ShopSettings).values(safety_stock=1, channel_buffers={"shopify": 2}))
    apply_stock(s.de.id, [record(sku, "DEWH", 10) for sku in SKUS], as_of=T0)
    apply_stock(s.fr.id, [record("SKU-0", "FRWH", 3), record("SKU-1", "FRWH", 8)], as_of=T0)
    db.session.execute(update(StockLevel).where(StockLevel.sku == "SKU-0", StockLevel.warehouse_id == s.de.id)
                       .values(reserved=4))
    db.session.commit()

    stats = stock_push.push_shopify_stock(s.shop.id, SKUS)
    assert s.shopify("SKU-0", s.berlin) == 10 - 4 - 1 - 2
    assert s.shopify("SKU-1", s.berlin) == 7 and s.shopify("SKU-1", s.lyon) == 5
    assert s.shopify("SKU-0", s.lyon) == 0 and s.shopify("SKU-5", s.lyon) == 0  # 3-1-2; none at FRWH
    # SKU-1 at Lyon: 8-1-2 = 5, what Shopify already shows: recorded, not sent.
    assert (stats.pushed, stats.recorded, stats.calls) == (11, 1, 1)
    assert s.pushed("SKU-1", s.lyon) == 5 and s.pushed("SKU-0", s.berlin) == 3
    before = s.mutations()

    again = stock_push.push_shopify_stock(s.shop.id, SKUS)
    assert (again.pushed, again.calls, again.unchanged) == (0, 0, 12)
    assert s.mutations() == before

    apply_stock(s.de.id, [record("SKU-2", "DEWH", 11)], as_of=T0 + timedelta(minutes=1))
    third = stock_push.push_shopify_stock(s.shop.id, SKUS)
    assert (third.pushed, third.calls) == (1, 1) and s.shopify("SKU-2", s.berlin) == 8


def test_a_warehouse_never_synced_is_left_alone(stack):
    s = stack
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 9)], as_of=T0)  # FRWH has no count yet
    stock_push.push_shopify_stock(s.shop.id, ["SKU-0"])
    assert s.shopify("SKU-0", s.berlin) == 9
    assert s.shopify("SKU-0", s.lyon) == 5  # not wiped to 0 before FRWH's first count


def push_jobs() -> int:
    """Stock push jobs waiting (other features, e.g. the storefront, queue their own work too)."""
    return sum(1 for job_id in queues["sync"].get_job_ids() if job_id.startswith("push-stock-"))


def test_a_burst_of_changes_becomes_one_push_job(stack):
    s = stack
    apply_stock(s.fr.id, [record("SKU-0", "FRWH", 5)], as_of=T0, push=False)
    for i, sku in enumerate(SKUS * 5):  # 30 separate commits, like 30 webhooks
        apply_stock(s.de.id, [record(sku, "DEWH", 20 + i)], as_of=T0 + timedelta(seconds=i))
    assert push_jobs() == 1
    assert s.worker.run() >= 1
    assert s.mutations() == 1  # 6 SKUs x 2 locations in one inventorySetQuantities call
    assert [s.shopify(sku, s.berlin) for sku in SKUS] == [44, 45, 46, 47, 48, 49]
    assert stock_push.dirty_skus(s.shop.id) == set()
    # The pending flag was cleared: the next change schedules a new job.
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 1)], as_of=T0 + timedelta(hours=1))
    assert push_jobs() == 1
    s.worker.run()
    assert s.shopify("SKU-0", s.berlin) == 1 and s.mutations() == 2


def test_a_stale_baseline_is_reread_and_still_set(stack):
    s = stack
    for w in (s.de, s.fr):
        apply_stock(w.id, [record("SKU-0", w.code, 9)], as_of=T0, push=False)
    s.set_shopify("SKU-0", s.berlin, 2)  # sold in the shop; the webhook has not reached us yet
    stats = stock_push.push_shopify_stock(s.shop.id, ["SKU-0"])
    assert (stats.pushed, stats.unapplied) == (2, 0)
    assert s.shopify("SKU-0", s.berlin) == 9 and s.pushed("SKU-0", s.berlin) == 9


def test_items_still_stale_after_rereads_are_reported_not_recorded(stack, monkeypatch):
    from connectors.shopify import inventory

    s = stack
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 9)], as_of=T0, push=False)
    apply_stock(s.fr.id, [record("SKU-0", "FRWH", 5)], as_of=T0, push=False)
    real = inventory.get_inventory_levels
    busy = iter(range(100, 200))

    def reread_then_someone_sells_again(*args, **kwargs):
        levels = real(*args, **kwargs)
        s.set_shopify("SKU-0", s.berlin, next(busy))
        return levels

    monkeypatch.setattr(inventory, "get_inventory_levels", reread_then_someone_sells_again)
    s.set_shopify("SKU-0", s.berlin, 3)
    stats = stock_push.push_shopify_stock(s.shop.id, ["SKU-0"])
    assert stats.unapplied == 1 and stats.pushed == 0
    assert s.pushed("SKU-0", s.berlin) is None  # never recorded as set: reconciliation will look


def test_a_quantity_shopify_refuses_does_not_hold_back_the_others(stack):
    from integration.models import InventoryLevel, Variant
    from tests.shopify_fixtures import SHOPIFY_SHOP

    s = stack
    # SKU-X is stocked at Berlin only, but our mirror wrongly believes Lyon has it too.
    spec = {"sku": "SKU-X", "title": "X", "quantities": {s.berlin: 5}}
    product = s.emulator.add_product(SHOPIFY_SHOP, "Other", [spec])
    db.session.add(Variant(shop_id=s.shop.id, shopify_id=spec["id"], product_shopify_id=product, sku="SKU-X",
                           inventory_item_id=spec["inventory_item_id"]))
    db.session.add_all([InventoryLevel(shop_id=s.shop.id, inventory_item_id=spec["inventory_item_id"],
                                       location_shopify_id=loc, available=5) for loc in (s.berlin, s.lyon)])
    db.session.commit()
    for w in (s.de, s.fr):
        apply_stock(w.id, [record(sku, w.code, 7) for sku in [*SKUS, "SKU-X"]], as_of=T0, push=False)

    stats = stock_push.push_shopify_stock(s.shop.id, [*SKUS, "SKU-X"])
    assert (stats.pushed, stats.refused) == (13, 1)
    assert s.emulator.inventory_quantity(SHOPIFY_SHOP, spec["inventory_item_id"], s.berlin) == 7
    assert all(s.shopify(sku, loc) == 7 for sku in SKUS for loc in (s.berlin, s.lyon))
    alert = db.session.execute(select(Alert).where(Alert.kind == "stock_push_refused")).scalar_one()
    assert alert.details["location"] == s.lyon and "ITEM_NOT_STOCKED_AT_LOCATION" in alert.details["code"]


# -- polling --------------------------------------------------------------------------------------


def test_poll_resumes_from_its_cursor_after_a_crash_without_double_effects(stack, monkeypatch):
    s = stack
    provider = FakeProvider(page_size=2)
    monkeypatch.setattr(stock_sync, "provider_for", lambda account: provider)
    for i, sku in enumerate(SKUS[:5]):
        provider.set("DEWH", sku, 10 + i)
    real_save = stock_sync.save_cursor
    saves = []

    def crash_on_second_page(shop_id, stream, position):
        saves.append(position)
        if len(saves) == 2:
            raise RuntimeError("worker killed between apply and cursor save")
        real_save(shop_id, stream, position)

    monkeypatch.setattr(stock_sync, "save_cursor", crash_on_second_page)
    with pytest.raises(RuntimeError):
        stock_sync.poll_inventory(s.account.id)
    db.session.expire_all()
    cursor = db.session.execute(select(SyncCursor)).scalar_one()
    assert (cursor.stream, cursor.position) == (f"inventory:{s.account.id}", "2")
    assert [s.ledger(s.de, sku) is not None for sku in SKUS[:5]] == [True, True, False, False, False]
    assert stock_push.dirty_skus(s.shop.id) == {"SKU-0", "SKU-1"}  # page 2 rolled back: not announced

    monkeypatch.setattr(stock_sync, "save_cursor", real_save)
    result = stock_sync.poll_inventory(s.account.id)
    assert (result.pages, result.records, result.changed) == (2, 3, 3)
    assert [s.ledger(s.de, sku).on_hand for sku in SKUS[:5]] == [10, 11, 12, 13, 14]
    assert provider.calls[-2:] == [("inventory_changes", "2"), ("inventory_changes", "4")]
    # Crash after the commit of a page: the next run starts after it; a replay of a page whose
    # commit did land (the cursor save was lost some other way) changes nothing.
    db.session.execute(update(SyncCursor).values(position="2"))
    db.session.commit()
    replay = stock_sync.poll_inventory(s.account.id)
    assert (replay.records, replay.changed) == (3, 0)
    s.worker.run()
    assert [s.shopify(sku, s.berlin) for sku in SKUS[:5]] == [10, 11, 12, 13, 14]
    assert s.mutations() == 1


def test_cron_jobs_enqueue_once_per_window(stack, monkeypatch):
    from jobs import stock as stock_jobs

    s = stack
    monkeypatch.setattr(stock_jobs, "_window", lambda seconds: 424242)
    assert stock_jobs.poll_all_inventory() == 1
    assert stock_jobs.poll_all_inventory() == 0  # a doubled cron tick in the same window
    assert queues["sync"].job_ids == [f"poll-inventory-{s.account.id}-424242"]
    assert stock_jobs.reconcile_all() == 1 and stock_jobs.reconcile_all() == 0
    assert queues["low"].job_ids == [f"reconcile-stock-{s.shop.id}-424242"]


def test_the_inventory_poll_retries_on_the_poll_policy(stack):
    from jobs import stock as stock_jobs

    assert stock_jobs.poll_all_inventory() == 1
    [job] = queues["sync"].jobs
    assert job.retry_intervals == list(job_catalog.POLL_RETRY) and job.retries_left == len(job_catalog.POLL_RETRY)


def test_the_sweep_restarts_a_lost_push(stack):
    from integration.extensions import redis

    s = stack
    apply_stock(s.de.id, [record("SKU-0", "DEWH", 3)], as_of=T0, push=False)
    apply_stock(s.fr.id, [record("SKU-0", "FRWH", 5)], as_of=T0, push=False)
    redis.client.sadd(stock_push._key("dirty", s.shop.id), "SKU-0")  # marked; its job was lost
    assert stock_push.sweep_dirty([s.shop.id]) == 1
    assert stock_push.sweep_dirty([s.shop.id]) == 0  # one is pending now
    s.worker.run()
    assert s.shopify("SKU-0", s.berlin) == 3 and stock_push.dirty_skus(s.shop.id) == set()


# -- reconciliation -------------------------------------------------------------------------------


def test_reconcile_heals_the_ledger_and_shopify(stack, monkeypatch):
    s = stack
    provider = FakeProvider()
    monkeypatch.setattr(stock_reconcile, "provider_for", lambda account: provider)
    for sku in SKUS:
        provider.set("DEWH", sku, 10)
        provider.set("FRWH", sku, 4)
    apply_account_stock(s.account.id, [record(sku, c, n, as_of=T0) for (c, sku), n in provider.stock.items()],
                        as_of=T0)
    s.worker.run()
    assert s.shopify("SKU-0", s.berlin) == 10 and s.pushed("SKU-0", s.berlin) == 10
    # Drift on every side: a poll was missed (warehouse counted 7 and SKU-5 left FRWH), a push
    # got lost (channel_stock says 10, Shopify 10 but target now 7), the merchant edited Shopify.
    provider.tick()
    provider.stock[("DEWH", "SKU-1")] = 7
    del provider.stock[("FRWH", "SKU-5")]
    s.set_shopify("SKU-2", s.lyon, 50)
    db.session.execute(update(ChannelStock).where(ChannelStock.item_id == s.items["SKU-3"],
                                                  ChannelStock.location_id == s.berlin).values(quantity=1))
    db.session.commit()

    stats = stock_reconcile.reconcile(s.shop.id, page_size=4, bulk_interval=0.05)
    assert (stats.ledger_corrected, stats.ledger_zeroed) == (1, 1)
    assert s.ledger(s.de, "SKU-1").on_hand == 7 and s.ledger(s.fr, "SKU-5").on_hand == 0
    assert s.shopify("SKU-1", s.berlin) == 7 and s.shopify("SKU-5", s.lyon) == 0
    assert s.shopify("SKU-2", s.lyon) == 4 and s.pushed("SKU-2", s.lyon) == 4
    assert s.pushed("SKU-3", s.berlin) == 10  # our record healed: Shopify was right
    assert (stats.pushed, stats.channel_drift, stats.recorded) == (3, 2, 1)
    assert stats.in_sync == 2 * len(SKUS) - 4
    assert stock_push.dirty_skus(s.shop.id) == set()  # the reconciliation pushes, no extra job

    calm = stock_reconcile.reconcile(s.shop.id, page_size=4, bulk_interval=0.05)
    assert (calm.ledger_corrected, calm.ledger_zeroed, calm.pushed, calm.channel_drift) == (0, 0, 0, 0)


def test_a_lost_export_status_read_does_not_restart_the_reconciliation(stack, monkeypatch):
    from connectors.errors import RetryableError
    from connectors.shopify import operations

    s = stack
    provider = FakeProvider()
    monkeypatch.setattr(stock_reconcile, "provider_for", lambda account: provider)
    for sku in SKUS:
        provider.set("DEWH", sku, 2)
        provider.set("FRWH", sku, 2)
    real = operations.get_bulk_operation
    failures = iter([RetryableError("ReadTimeout calling Shopify")])

    def flaky(client, operation_id):
        for exc in failures:
            raise exc
        return real(client, operation_id)

    monkeypatch.setattr(operations, "get_bulk_operation", flaky)
    stats = stock_reconcile.reconcile(s.shop.id, bulk_interval=0.05)
    assert stats.pushed == 12 and s.shopify("SKU-0", s.lyon) == 2


def test_reconcile_holds_one_page_at_a_time(stack, monkeypatch):
    s = stack
    provider = FakeProvider()
    monkeypatch.setattr(stock_reconcile, "provider_for", lambda account: provider)
    for sku in SKUS:
        provider.set("DEWH", sku, 3)
        provider.set("FRWH", sku, 3)
    applied_sizes = []
    real_apply = stock_reconcile.apply_stock
    monkeypatch.setattr(stock_reconcile, "apply_stock",
                        lambda wid, records, **kw: applied_sizes.append(len(records)) or real_apply(wid, records, **kw))
    stats = stock_reconcile.reconcile(s.shop.id, page_size=4, bulk_interval=0.05)
    assert (stats.pages, stats.max_page, stats.variants) == (2, 4, 6)  # 6 variants read 4 at a time
    assert applied_sizes == [4, 2, 4, 2]  # 6 records per warehouse, applied 4 at a time
    assert stats.pushed == 12 and stats.calls == 2  # one push per page
    assert [s.shopify(sku, loc) for sku in SKUS for loc in (s.berlin, s.lyon)] == [3] * 12
