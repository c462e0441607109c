"""What the notices of one send job read from the database, read once for all of them.

A send job handles up to ``notifications.BATCH_SIZE`` notices. Read one at a time, each cost six
ORM round trips before its claim (the row, its shop, the shop's "who sends tracking e-mails"
switch, the customer's opt-outs, the shipment, the order), and the commits of the claim expired
the ORM objects so the shop was read again for every notice. Here each of those is one Core
query per job (``IN`` over the batch), giving plain detached objects that commits cannot expire.

Nothing here decides anything: the job's claim (one conditional UPDATE for its notices, see
:mod:`notification_send`) is what makes a notice this job's to send; a row that changed since
it was read here is not returned by that claim and is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from integration.extensions import db
from integration.models import Order, Shipment, Shop
from integration.models.notification import Notification, NotificationPreference

_N = Notification.__table__
_ROW_COLUMNS = ("id", "shop_id", "kind", "subject", "recipient", "locale", "context", "status", "claim_token",
                "claimed_at", "attempts")
_SHOP_COLUMNS = ("id", "domain", "name", "email", "primary_locale")


@dataclass(frozen=True)
class ShipmentState:
    status: str
    status_reason: str | None
    status_at: object


@dataclass
class Prefetched:
    rows: dict[int, Notification] = field(default_factory=dict)
    shops: dict[int, Shop] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    shipments: dict[int, ShipmentState] = field(default_factory=dict)
    notices_by: dict[int, str] = field(default_factory=dict)
    opted_out: dict[tuple[int, str], list[str]] = field(default_factory=dict)

    def opt_outs(self, shop_id: int, email: str) -> list[str]:
        return self.opted_out.get((shop_id, email.lower()), [])


def _ids(values: Iterable[object]) -> list[int]:
    out = set()
    for value in values:
        try:
            out.add(int(value))  # context values are JSON: an id may have come back as text
        except (TypeError, ValueError):
            continue
    return sorted(out)


def load(notification_ids: list[int]) -> Prefetched:
    from integration.models import ShopSettings

    found = Prefetched()
    conn = db.session.connection()
    for row in conn.execute(select(*(_N.c[c] for c in _ROW_COLUMNS)).where(_N.c.id.in_(notification_ids))):
        # Transient (never added to a session): plain attribute bags that no commit expires.
        found.rows[row.id] = Notification(**row._mapping)
    if not found.rows:
        return found
    rows = found.rows.values()
    shop_ids = sorted({n.shop_id for n in rows})
    shops = Shop.__table__
    for row in conn.execute(select(*(shops.c[c] for c in _SHOP_COLUMNS)).where(shops.c.id.in_(shop_ids))):
        found.shops[row.id] = Shop(**row._mapping)
    settings = ShopSettings.__table__
    found.notices_by = {row.shop_id: row.customer_notices_by or "nearstock" for row in conn.execute(
        select(settings.c.shop_id, settings.c.customer_notices_by).where(settings.c.shop_id.in_(shop_ids)))}
    prefs = NotificationPreference.__table__
    emails = sorted({n.recipient.lower() for n in rows if n.recipient})
    if emails:
        for row in conn.execute(select(prefs.c.shop_id, prefs.c.email, prefs.c.opted_out)
                                .where(prefs.c.shop_id.in_(shop_ids), prefs.c.email.in_(emails))):
            found.opted_out[(row.shop_id, row.email)] = list(row.opted_out or [])
    contexts = [n.context or {} for n in rows]
    shipment_ids = _ids(c.get("shipment_id") for c in contexts if c.get("shipment_id"))
    if shipment_ids:
        t = Shipment.__table__
        for row in conn.execute(select(t.c.id, t.c.status, t.c.status_reason, t.c.status_at)
                                .where(t.c.id.in_(shipment_ids))):
            found.shipments[row.id] = ShipmentState(row.status, row.status_reason, row.status_at)
    order_ids = _ids(c.get("order_id") for c in contexts if c.get("order_id"))
    if order_ids:
        t = Order.__table__
        for row in conn.execute(select(t.c.id, t.c.shipping_country).where(t.c.id.in_(order_ids))):
            found.orders[row.id] = Order(id=row.id, shipping_country=row.shipping_country)
    return found
