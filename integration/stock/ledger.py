"""Warehouse counts into the stock ledger (``stock_levels``: one row per SKU x warehouse).

``apply_stock`` takes a provider's records for one warehouse (a poll page, a webhook, a
reconciliation page). Each record is checked on its own; a bad one is rejected with its reason
(structured log, one ``integration_log`` row per batch, a merchant alert) and the rest of the
batch proceeds. Accepted records are written with insert-or-get under the (warehouse, sku) unique
constraint, then a compare-and-set on ``on_hand_as_of``: a snapshot taken before the stored one
(for instance before a shipment we recorded locally, which already decremented on_hand) changes
nothing. ``inbound`` adds our own inbound shipments to the report's without counting one twice
(:mod:`integration.insights.inbound_levels`). ``reserved`` belongs to allocation and is never
written here. The ledger's ``on_hand`` is the provider's *sellable* count
(:attr:`StockRecord.sellable`: available plus what the warehouse holds for open orders), so
frozen, damaged or quarantined units never reach a sales channel.

Rejected (a count no merchant would ever see, so most likely a unit or parsing error upstream):
negative quantities, more than ``MAX_QUANTITY`` units, or a jump to more than ``JUMP_FACTOR``
times the previous count when that is also above ``JUMP_FACTOR x JUMP_FLOOR`` units (e.g. from
40 to 150,000; from 0 to 90,000 passes: a first delivery).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from rq import get_current_job
from sqlalchemy import bindparam, or_, select, update

from integration.domain.batching import chunks
from integration.domain.warehousing import StockRecord
from integration.extensions import db
from integration.insights import inbound_levels
from integration.models import IntegrationLog, StockLevel, Warehouse, WarehouseAccount
from integration.models.base import utcnow
from integration.models.integration_log import EXCERPT_CHARS
from integration.models.upsert import insert
from integration.shops.alerts import raise_alert
from integration.stock.daily import record_levels
from integration.stock.push import ledger_changed
from integration.stock.targets import shop_variants

log = structlog.get_logger(__name__)

MAX_QUANTITY = 10_000_000
JUMP_FACTOR = 100
JUMP_FLOOR = 1_000
CHUNK = 500  # records per statement group (well under SQLite's bound-parameter limit)
ALERT_SAMPLE = 50

TABLE = StockLevel.__table__
NONE_OF_OURS = inbound_levels.Ours()


@dataclass(frozen=True)
class Rejection:
    sku: str
    warehouse_code: str
    reason: str
    kind: str  # invalid, unknown_sku, wrong_warehouse


@dataclass
class ApplyResult:
    changed: list[str] = field(default_factory=list)  # SKUs whose on_hand/inbound changed or appeared
    rejected: list[Rejection] = field(default_factory=list)
    written: int = 0  # rows inserted or updated (including a newer stamp on the same count)
    stale: int = 0  # records older than the ledger: ignored
    oldest_stamp: datetime | None = None  # of the stored or stale records (reconciliation uses it)
    moves: list[tuple[str, str, int | None, int]] = field(default_factory=list)  # (code, sku, before, after)

    def add(self, other: ApplyResult) -> None:
        self.changed = sorted(set(self.changed) | set(other.changed))
        self.rejected.extend(other.rejected)
        self.written += other.written
        self.stale += other.stale
        self.moves.extend(other.moves)
        stamps = [s for s in (self.oldest_stamp, other.oldest_stamp) if s is not None]
        self.oldest_stamp = min(stamps) if stamps else None


def apply_stock(warehouse_id: int, records: Iterable[StockRecord], *, as_of: datetime, commit: bool = True,
                push: bool = True) -> ApplyResult:
    """Store one warehouse's counts. ``as_of`` is when the batch was read, used for records that
    carry no ``as_of`` of their own. With ``commit=False`` the caller commits (e.g. together with
    a cursor); the changed SKUs are announced after that commit (see ``stock_push.ledger_changed``)."""
    warehouse = db.session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise ValueError(f"unknown warehouse {warehouse_id}")
    result = ApplyResult()
    for chunk in chunks(records, CHUNK):
        _apply_chunk(warehouse, chunk, as_of, result)
    record_levels((warehouse.id, sku) for sku in result.changed)
    _report_rejections(warehouse.shop_id, warehouse.account_id, result.rejected, warehouse=warehouse)
    ledger_changed(warehouse.shop_id, result.changed, push=push)
    log.info("stock.applied", warehouse_id=warehouse_id, changed=len(result.changed), written=result.written,
             stale=result.stale, rejected=len(result.rejected))
    if commit:
        db.session.commit()
    return result


def apply_account_stock(account_id: int, records: Iterable[StockRecord], *, as_of: datetime, commit: bool = True,
                        push: bool = True) -> ApplyResult:
    """Store records of any warehouses of one provider account (a poll page, a webhook): each is
    routed by its warehouse code; codes the account does not have are rejected."""
    account = db.session.get(WarehouseAccount, account_id)
    if account is None:
        raise ValueError(f"unknown warehouse account {account_id}")
    codes = dict(db.session.execute(
        select(Warehouse.code, Warehouse.id).where(Warehouse.account_id == account_id)).all())
    groups: dict[int, list[StockRecord]] = {}
    unknown: list[Rejection] = []
    for record in records:
        warehouse_id = codes.get(record.warehouse_code)
        if warehouse_id is None:
            unknown.append(Rejection(record.sku, record.warehouse_code,
                                     f"warehouse code {record.warehouse_code!r} is not one of this account's",
                                     "wrong_warehouse"))
        else:
            groups.setdefault(warehouse_id, []).append(record)
    result = ApplyResult()
    for warehouse_id, group in sorted(groups.items()):
        result.add(apply_stock(warehouse_id, group, as_of=as_of, commit=False, push=push))
    _report_rejections(account.shop_id, account.id, unknown)
    result.rejected.extend(unknown)
    if commit:
        db.session.commit()
    return result


def _check(record: StockRecord, warehouse: Warehouse) -> str | None:
    if record.warehouse_code != warehouse.code:
        return f"record for warehouse {record.warehouse_code!r} sent as {warehouse.code!r}"
    if not record.sku or not record.sku.strip():
        return "empty SKU"
    for name in ("on_hand", "available", "reserved", "inbound"):
        value = getattr(record, name)
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{name} is not a whole number: {value!r}"
        if value < 0:
            return f"negative {name}: {value}"
        if value > MAX_QUANTITY:
            return f"{name} {value} is above {MAX_QUANTITY:,}"
    return None


def _is_jump(previous: int, new: int) -> bool:
    return new > JUMP_FACTOR * max(previous, JUMP_FLOOR)


def _apply_chunk(warehouse: Warehouse, chunk: Sequence[StockRecord], as_of: datetime, result: ApplyResult) -> None:
    latest: dict[str, tuple[StockRecord, datetime]] = {}  # SKU -> newest record of the chunk
    for record in chunk:
        reason = _check(record, warehouse)
        if reason is not None:
            kind = "wrong_warehouse" if record.warehouse_code != warehouse.code else "invalid"
            result.rejected.append(Rejection(record.sku, record.warehouse_code, reason, kind))
            continue
        stamp = record.as_of or as_of
        seen = latest.get(record.sku)
        if seen is None or seen[1] <= stamp:  # the same SKU twice in a batch: the newer wins
            latest[record.sku] = (record, stamp)
    if not latest:
        return
    known = {sku for sku, _ in shop_variants(warehouse.shop_id, list(latest))}
    for sku in [s for s in latest if s not in known]:
        result.rejected.append(Rejection(sku, warehouse.code, "SKU is not a variant of the shop", "unknown_sku"))
        del latest[sku]
    existing = {row.sku: row for row in db.session.execute(
        select(TABLE.c.id, TABLE.c.sku, TABLE.c.on_hand, TABLE.c.inbound, TABLE.c.inbound_eta, TABLE.c.on_hand_as_of)
        .where(TABLE.c.warehouse_id == warehouse.id, TABLE.c.sku.in_(list(latest))))}
    ours = inbound_levels.contribution(warehouse.id, list(latest))  # our shipments: see inbound_levels
    inserts, updates, touches = [], [], {}
    for sku, (record, stamp) in latest.items():
        row = existing.get(sku)
        if row is not None and row.on_hand_as_of is not None and row.on_hand_as_of >= stamp:
            result.stale += 1
            result.oldest_stamp = min(stamp, result.oldest_stamp) if result.oldest_stamp else stamp
            continue
        count = record.sellable
        if _is_jump(row.on_hand if row is not None else 0, count):
            result.rejected.append(Rejection(sku, warehouse.code, (
                f"on_hand jumps from {row.on_hand if row is not None else 0} to {count}"), "invalid"))
            continue
        result.oldest_stamp = min(stamp, result.oldest_stamp) if result.oldest_stamp else stamp
        mine = ours.get(sku, NONE_OF_OURS)
        inbound, eta = mine.inbound(record.inbound), record.inbound_eta or mine.eta
        values = {"on_hand": count, "inbound": inbound, "inbound_eta": eta}
        if row is None or row.on_hand != count:
            result.moves.append((warehouse.code, sku, row.on_hand if row is not None else None, count))
        if row is None:
            inserts.append({"shop_id": warehouse.shop_id, "warehouse_id": warehouse.id, "sku": sku, "reserved": 0,
                            "on_hand_as_of": stamp, **values})
        elif (row.on_hand, row.inbound, row.inbound_eta) != (count, inbound, eta):
            updates.append({"b_id": row.id, "b_stamp": stamp, "b_on_hand": count,
                            "b_inbound": inbound, "b_inbound_eta": eta})
        else:  # same count, newer snapshot: move the stamp so an older snapshot cannot win later
            touches.setdefault(stamp, []).append(row.id)
    changed: set[str] = set()
    if inserts:
        created = set(db.session.execute(
            insert(TABLE).values(inserts).on_conflict_do_nothing(index_elements=["warehouse_id", "sku"])
            .returning(TABLE.c.sku)).scalars())
        changed |= created
        result.written += len(created)
        for row in inserts:  # inserted by someone else meanwhile: fall back to the guarded update
            if row["sku"] not in created and _update_one(warehouse.id, row):
                changed.add(row["sku"])
                result.written += 1
    if updates:
        db.session.execute(_GUARDED_UPDATE, updates)
        by_id = {row.id: sku for sku, row in existing.items()}
        changed |= {by_id[u["b_id"]] for u in updates}
        result.written += len(updates)
    for stamp, ids in touches.items():
        result.written += db.session.execute(
            update(TABLE)
            .where(TABLE.c.id.in_(ids), or_(TABLE.c.on_hand_as_of.is_(None), TABLE.c.on_hand_as_of < stamp))
            .values(on_hand_as_of=stamp)).rowcount
    result.changed = sorted(set(result.changed) | changed)


# One statement, executed for many rows: the stamp guard makes each row's write a compare-and-set
# against a concurrent writer (a newer snapshot or a shipment) that committed after our read.
_GUARDED_UPDATE = (
    update(TABLE)
    .where(TABLE.c.id == bindparam("b_id"),
           or_(TABLE.c.on_hand_as_of.is_(None), TABLE.c.on_hand_as_of < bindparam("b_stamp")))
    .values(on_hand=bindparam("b_on_hand"), inbound=bindparam("b_inbound"), inbound_eta=bindparam("b_inbound_eta"),
            on_hand_as_of=bindparam("b_stamp"))
)


def _update_one(warehouse_id: int, row: dict) -> bool:
    stamp = row["on_hand_as_of"]
    return bool(db.session.execute(
        update(TABLE)
        .where(TABLE.c.warehouse_id == warehouse_id, TABLE.c.sku == row["sku"],
               or_(TABLE.c.on_hand_as_of.is_(None), TABLE.c.on_hand_as_of < stamp))
        .values(on_hand=row["on_hand"], inbound=row["inbound"], inbound_eta=row["inbound_eta"], on_hand_as_of=stamp)
    ).rowcount)


def _report_rejections(shop_id: int, account_id: int, rejected: Sequence[Rejection], *,
                       warehouse: Warehouse | None = None) -> None:
    """One structured log line per record, one integration_log row per batch, and alerts: one
    per invalid SKU x warehouse, one per warehouse for unknown SKUs (a 3PL often stocks SKUs the
    shop does not sell online: one alert, not thousands)."""
    if not rejected:
        return
    account = db.session.get(WarehouseAccount, account_id)
    system = account.provider if account else "warehouse"
    for r in rejected:
        log.warning("stock.rejected", shop_id=shop_id, warehouse=r.warehouse_code, sku=r.sku, reason=r.reason,
                    kind=r.kind)
    job = get_current_job()
    summary = {}
    for r in rejected:
        summary[r.kind] = summary.get(r.kind, 0) + 1
    db.session.add(IntegrationLog(
        shop_id=shop_id, system=system[:32], operation="stock.apply", status="failed",
        external_id=(warehouse.code if warehouse else f"account:{account_id}")[:255],
        job_id=job.id if job else None,
        request_excerpt=json.dumps([[r.sku, r.warehouse_code, r.reason]
                                    for r in rejected[:ALERT_SAMPLE]])[:EXCERPT_CHARS],
        error=f"{len(rejected)} stock record(s) rejected: "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(summary.items())),
        created_at=utcnow(),
    ))
    unknown = [r for r in rejected if r.kind == "unknown_sku"]
    if unknown and warehouse is not None:
        raise_alert(shop_id, "stock_unknown_sku", f"warehouse:{warehouse.id}",
                    f"Warehouse {warehouse.name or warehouse.code} reports SKUs that are not in your Shopify catalog "
                    f"(e.g. {', '.join(r.sku for r in unknown[:5])}); their stock is not synced.",
                    {"skus": [r.sku for r in unknown[:ALERT_SAMPLE]], "count": len(unknown)})
    for r in rejected:
        if r.kind == "invalid":
            subject = f"stock:{warehouse.id if warehouse else account_id}:{r.sku}"[:128]
            raise_alert(shop_id, "stock_rejected", subject,
                        f"Stock count for {r.sku} at {r.warehouse_code} was rejected: {r.reason}",
                        {"sku": r.sku, "warehouse": r.warehouse_code, "reason": r.reason})
    for code in sorted({r.warehouse_code for r in rejected if r.kind == "wrong_warehouse"}):
        raise_alert(shop_id, "stock_unknown_warehouse", f"account:{account_id}:{code}"[:128],
                    f"Warehouse code {code} is not set up in Nearstock; its stock is not synced.",
                    {"warehouse": code, "account_id": account_id})
