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

from sqlalchemy import bindparam, select

from integration.extensions import db
from integration.models import Order, Shipment, Shop, ShopSettings
from integration.models.notification import Notification, NotificationPreference

_N = Notification.__table__
_ROW_COLUMNS = ("id", "shop_id", "kind", "subject", "recipient", "locale", "context", "status", "claim_token",
                "claimed_at", "attempts")
_SHOP_COLUMNS = ("id", "domain", "name", "email", "primary_locale")


def _in(column, name: str = "ids"):
    return column.in_(bindparam(name, expanding=True))


# Built once, as the claim is (integration.notices.send): a statement object reused with new
# parameters skips SQLAlchemy's construction and cache-key work, which was a third of this read.
_ROWS = select(*(_N.c[c] for c in _ROW_COLUMNS)).where(_in(_N.c.id))
_SHOPS = select(*(Shop.__table__.c[c] for c in _SHOP_COLUMNS)).where(_in(Shop.__table__.c.id))
_S = ShopSettings.__table__
_NOTICES_BY = select(_S.c.shop_id, _S.c.customer_notices_by).where(_in(_S.c.shop_id))
_P = NotificationPreference.__table__
_OPT_OUTS = select(_P.c.shop_id, _P.c.email, _P.c.opted_out).where(_in(_P.c.shop_id, "shop_ids"),
                                                                    _in(_P.c.email, "emails"))
_SHIPMENTS = select(Shipment.__table__.c["id", "status", "status_reason", "status_at"]).where(
    _in(Shipment.__table__.c.id))
_ORDERS = select(Order.__table__.c["id", "shipping_country"]).where(_in(Order.__table__.c.id))


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
    found = Prefetched()
    conn = db.session.connection()
    for row in conn.execute(_ROWS, {"ids": notification_ids}):
        # Transient (never added to a session): plain attribute bags that no commit expires.
        found.rows[row.id] = Notification(**row._mapping)
    if not found.rows:
        return found
    rows = found.rows.values()
    shop_ids = sorted({n.shop_id for n in rows})
    for row in conn.execute(_SHOPS, {"ids": shop_ids}):
        found.shops[row.id] = Shop(**row._mapping)
    found.notices_by = {row.shop_id: row.customer_notices_by or "nearstock"
                        for row in conn.execute(_NOTICES_BY, {"ids": shop_ids})}
    emails = sorted({n.recipient.lower() for n in rows if n.recipient})
    if emails:
        for row in conn.execute(_OPT_OUTS, {"shop_ids": shop_ids, "emails": emails}):
            found.opted_out[(row.shop_id, row.email)] = list(row.opted_out or [])
    contexts = [n.context or {} for n in rows]
    shipment_ids = _ids(c.get("shipment_id") for c in contexts if c.get("shipment_id"))
    if shipment_ids:
        for row in conn.execute(_SHIPMENTS, {"ids": shipment_ids}):
            found.shipments[row.id] = ShipmentState(row.status, row.status_reason, row.status_at)
    order_ids = _ids(c.get("order_id") for c in contexts if c.get("order_id"))
    if order_ids:
        for row in conn.execute(_ORDERS, {"ids": order_ids}):
            found.orders[row.id] = Order(id=row.id, shipping_country=row.shipping_country)
    return found
