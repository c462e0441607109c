"""Mandatory privacy topics end to end, checked generically: every table, every column, every row.

A table added later is covered by these tests without editing them: erasure is searched for in
every text, JSON and binary value of the whole database (and Redis), not in the tables we know.
"""

from __future__ import annotations

import json

from sqlalchemy import select, text

from integration.extensions import db, queues, redis
from integration.inbox import events as inbox
from integration.models import (
    Base,
    ComplianceRequest,
    EventStatus,
    Fulfillment,
    ImportRun,
    IntegrationLog,
    Order,
    OrderLine,
    Shop,
    ShopStatus,
    SyncCursor,
    WebhookEvent,
)
from integration.models.pii import PERSONAL_NAMES
from integration.shops import compliance, installation
from tests.web.test_shopify_webhook_handlers import (
    CUSTOMER_A,
    ORDER_ID,
    SHOP,
    event_for,
    fulfillment_payload,
    level_payload,
    line,
    location_payload,
    make_shop,
    order_payload,
    product_payload,
    rows,
    send,
    variant,
)

OTHER = "beta.myshopify.com"
CUSTOMER_B = {"id": 207119551, "email": "bertrand.vexholm@example.net", "first_name": "Bertrand",
              "last_name": "Vexholm", "phone": "+33 4 5550199", "address1": "Rue Quincampoix 9",
              "city": "Villeurbanne-Nord", "zip": "69100", "country_code": "FR"}
GUEST_ORDER = ORDER_ID + 1  # A again, as a guest with the email typed differently
WORK_ORDER = ORDER_ID + 2  # A with a work address: only found through orders_to_redact
B_ORDER = ORDER_ID + 3


def personal(c: dict) -> list[str]:
    return [c["email"], c["first_name"], c["last_name"], f"{c['first_name']} {c['last_name']}", c["phone"],
            c["address1"], c["city"]]


def find_everywhere(needles: list[str], *, skip=lambda table, row: False) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every value of every row of every table that contains a needle."""
    db.session.expire_all()
    lowered = [n.lower() for n in needles]
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            if skip(table, row):
                continue
            for column, value in row.items():
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                elif isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                if isinstance(value, str):
                    hits += [(table.name, column, n) for n in lowered if n in value.lower()]
    return hits


def redact_body(customer: dict, orders: list[int], shop: str = SHOP) -> dict:
    return {"shop_id": 954889, "shop_domain": shop, "orders_to_redact": orders,
            "customer": {"id": customer["id"], "email": customer["email"], "phone": customer["phone"]}}


def data_request_body(customer: dict, orders: list[int]) -> dict:
    return {"shop_id": 954889, "shop_domain": SHOP, "orders_requested": orders, "data_request": {"id": 9999},
            "customer": {"id": customer["id"], "email": customer["email"], "phone": customer["phone"]}}


def seed_customers(client, worker) -> None:
    guest = {**order_payload(GUEST_ORDER, updated=1, lines=[line(7)]), "customer": None, "contact_email": None,
             "email": CUSTOMER_A["email"].upper()}
    work = {**order_payload(WORK_ORDER, updated=1, lines=[line(8)]), "customer": None,
            "email": "a.quixwell@work.example"}
    for body in (order_payload(updated=1), guest, work, order_payload(B_ORDER, customer=CUSTOMER_B, updated=1)):
        send(client, "orders/create", body)
    send(client, "fulfillments/create", fulfillment_payload(updated=1))
    send(client, "orders/create", order_payload(updated=1), shop=OTHER)  # A is a customer of beta too
    worker.run()


def test_customer_redact_erases_the_customer_everywhere_and_nothing_else(client, worker):
    acme, beta = make_shop(), make_shop(OTHER)
    seed_customers(client, worker)
    send(client, "customers/data_request", data_request_body(CUSTOMER_A, [ORDER_ID]))  # an export holds A too
    worker.run()
    send(client, "orders/updated", order_payload(updated=5), webhook_id="pending")  # still in the inbox
    queues["events"].empty()
    send(client, "app/uninstalled", {"id": 548380009})  # redaction is honoured after an uninstall
    worker.run()
    a_strings = [*personal(CUSTOMER_A), "a.quixwell@work.example"]
    assert find_everywhere(a_strings)  # the data is there to begin with

    send(client, "customers/redact", redact_body(CUSTOMER_A, [WORK_ORDER]), webhook_id="redact")
    worker.run()
    assert event_for("redact").status == EventStatus.DONE

    def beta_row(table, row):
        return row.get("shop_id") == beta or row.get("shop_domain") == OTHER

    assert find_everywhere(a_strings, skip=beta_row) == []
    # Nothing else was touched: B, and A's data held for the other shop.
    assert {n.lower() for _, _, n in find_everywhere(personal(CUSTOMER_B))} == {n.lower() for n in personal(CUSTOMER_B)}
    db.session.expire_all()
    beta_order = db.session.execute(select(Order).where(Order.shop_id == beta)).scalar_one()
    assert beta_order.email == CUSTOMER_A["email"] and beta_order.redacted_at is None

    orders = {o.external_id.rsplit("/", 1)[1]: o for o in rows(Order) if o.shop_id == acme}
    for order_id in (ORDER_ID, GUEST_ORDER, WORK_ORDER):
        order = orders[str(order_id)]
        assert order.redacted_at is not None and order.email is None and order.shipping_address is None
        assert order.shipping_country == "DE"  # not personal on its own: statistics keep it
    assert orders[str(B_ORDER)].redacted_at is None and orders[str(B_ORDER)].email == CUSTOMER_B["email"]
    assert len(rows(OrderLine)) == 8 and len(rows(Fulfillment)) == 1  # rows stay, personal columns go

    [record] = [r for r in rows(ComplianceRequest) if r.topic == "customers/redact"]
    assert record.shop_id == acme and record.email is None and record.export is None
    assert record.customer_external_id == f"gid://shopify/Customer/{CUSTOMER_A['id']}"
    assert record.summary["erased"]["orders"] == 3 and record.summary["erased"]["compliance_requests"] == 1
    assert record.summary["erased"]["webhook_events"] >= 5

    # The event that was still waiting is processed later without bringing anything back.
    pending = event_for("pending")
    assert inbox.process_event(pending.id) == EventStatus.DONE
    assert find_everywhere(a_strings, skip=beta_row) == []


def test_older_copy_after_redaction_does_not_restore_personal_data(client, worker):
    make_shop()
    send(client, "orders/create", order_payload(updated=3))
    worker.run()
    send(client, "customers/redact", redact_body(CUSTOMER_A, [ORDER_ID]))
    worker.run()
    send(client, "orders/updated", order_payload(updated=2))  # delayed copy from before the redaction
    worker.run()
    assert find_everywhere(personal(CUSTOMER_A)) == []


def test_redact_for_an_unknown_shop_still_scrubs_the_inbox(client, worker):
    send(client, "orders/create", order_payload(), shop="ghost.myshopify.com")
    worker.run()
    assert find_everywhere([CUSTOMER_A["email"]])
    send(client, "customers/redact", redact_body(CUSTOMER_A, [], shop="ghost.myshopify.com"),
         shop="ghost.myshopify.com")
    worker.run()
    assert find_everywhere(personal(CUSTOMER_A)) == []


def test_data_request_exports_the_customers_orders_and_nothing_else(client, worker):
    acme = make_shop()
    make_shop(OTHER)
    seed_customers(client, worker)
    send(client, "app/uninstalled", {"id": 548380009})  # honoured after an uninstall too
    send(client, "customers/data_request", data_request_body(CUSTOMER_A, [ORDER_ID, WORK_ORDER]), webhook_id="dr")
    worker.run()
    assert event_for("dr").status == EventStatus.DONE
    [record] = rows(ComplianceRequest)
    assert (record.shop_id, record.topic) == (acme, "customers/data_request")
    assert record.customer_external_id == f"gid://shopify/Customer/{CUSTOMER_A['id']}"
    exported = record.export["records"]["orders"]
    assert sorted(o["external_id"] for o in exported) == sorted(
        f"gid://shopify/Order/{n}" for n in (ORDER_ID, GUEST_ORDER, WORK_ORDER))
    assert all(o["shop_id"] == acme for o in exported)
    first = next(o for o in exported if o["external_id"] == f"gid://shopify/Order/{ORDER_ID}")
    assert first["email"] == CUSTOMER_A["email"] and first["shipping_address"]["address1"] == "Zwirngasse 17"
    assert [ln["sku"] for ln in first["related"]["order_lines"]] == ["SKU-1", "SKU-2"]
    assert first["related"]["fulfillments"][0]["tracking_number"] == "1z827wk74630"
    # Rows of tables that hang off an order (allocations, shipments…) are exported too, found by
    # their foreign keys; those three are the ones these webhooks create.
    assert {k: record.summary[k] for k in ("orders", "order_lines", "fulfillments")} == {
        "orders": 3, "order_lines": 4, "fulfillments": 1}
    dumped = json.dumps(record.export).lower()
    assert not [s for s in [*personal(CUSTOMER_B), str(B_ORDER)] if s.lower() in dumped]
    assert "access_token" not in dumped


def test_shop_redact_deletes_everything_of_the_shop_and_nothing_else(client, worker, redis_conn):
    assert db.dialect != "sqlite" or db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1

    def seed(domain: str) -> int:
        shop_id = make_shop(domain)
        send(client, "orders/create", order_payload(updated=1), shop=domain)
        send(client, "fulfillments/create", fulfillment_payload(updated=1), shop=domain)
        send(client, "products/update", product_payload([variant(1, title="S")], updated=1), shop=domain)
        send(client, "locations/create", location_payload(updated=1), shop=domain)
        send(client, "inventory_levels/update", level_payload(4, updated=1), shop=domain)
        send(client, "customers/data_request", {**data_request_body(CUSTOMER_A, [ORDER_ID]), "shop_domain": domain},
             shop=domain)
        worker.run()
        db.session.add_all([
            ImportRun(shop_id=shop_id, bulk_operation_id="gid://shopify/BulkOperation/1"),
            IntegrationLog(shop_id=shop_id, system="shopify", operation="orders", status="ok",
                           request_excerpt=f"https://{domain}/admin"),
            SyncCursor(shop_id=shop_id, stream="orders", position="2026-01-01"),
        ])
        db.session.commit()
        for key in (installation.redis_key(domain, "token-refresh"), f"shopify:throttle:{{{domain}}}:bucket",
                    f"legacy:{domain}:cache", f"shop:{domain}:status"):
            redis.client.set(key, "1")
        return shop_id

    seed(OTHER)
    db.session.expire_all()
    untouched = {t.name: sorted(map(repr, db.session.execute(select(t)).all())) for t in Base.metadata.sorted_tables}
    other_keys = sorted(redis_conn.keys(f"*{OTHER}*"))
    acme = seed(SHOP)
    redis.client.set(f"notes:x{SHOP}:z", "1")  # another shop whose domain ends like ours
    send(client, "app/uninstalled", {"id": 548380009})
    worker.run()
    assert db.session.get(Shop, acme).status == ShopStatus.UNINSTALLED

    send(client, "shop/redact", {"shop_id": 954889, "shop_domain": SHOP}, webhook_id="shop-redact")
    worker.run()

    # Nothing of the shop anywhere: no row pointing at it, no value naming it.
    db.session.expire_all()
    for table in Base.metadata.sorted_tables:
        for name in ("shop_id",) if table.name != "shops" else ("id",):
            if name in table.c:
                assert db.session.execute(select(table).where(table.c[name] == acme)).first() is None, table.name
    assert find_everywhere([SHOP]) == []
    assert sorted(k.decode() for k in redis_conn.keys(f"*{SHOP}*")) == [f"notes:x{SHOP}:z"]

    # The other shop is exactly as it was; the inbox keeps one anonymous row for the redact itself.
    after = {t.name: sorted(map(repr, db.session.execute(select(t)).all())) for t in Base.metadata.sorted_tables}
    kept = event_for("shop-redact")
    assert (kept.status, kept.shop_domain, kept.shop_id, kept.body) == (
        EventStatus.DONE, None, None, compliance.REDACTED_BODY)
    after["webhook_events"].remove(repr(db.session.execute(
        select(WebhookEvent.__table__).where(WebhookEvent.id == kept.id)).one()))
    assert after == untouched
    assert sorted(redis_conn.keys(f"*{OTHER}*")) == other_keys and len(other_keys) == 4


def test_shop_redact_for_an_unknown_shop_clears_its_inbox(client, worker):
    ghost = "ghost.myshopify.com"
    send(client, "orders/create", order_payload(), shop=ghost, webhook_id="g0")
    worker.run()
    send(client, "shop/redact", {"shop_id": 1, "shop_domain": ghost}, shop=ghost, webhook_id="g1")
    send(client, "shop/redact", {"shop_id": 1, "shop_domain": ghost}, shop=ghost, webhook_id="g2")
    worker.run()
    db.session.expire_all()
    # g1 deleted every other event of the shop, g2 too while it waited: its job found nothing to do.
    assert [e.delivery_id for e in rows(WebhookEvent)] == ["g1"] and event_for("g1").status == EventStatus.DONE
    assert find_everywhere([ghost]) == [] and queues["events"].failed_job_registry.count == 0


def test_every_personal_looking_column_is_declared():
    """A column named like personal data (a whole ``_``-separated part of its name: ``email``,
    ``customer_name``, ``ip_address``; not ``zip`` inside ``shipping``) must be declared in
    ``__pii__`` (erased on redact) or ``__not_pii__`` (with a reason), so no table escapes erasure."""
    undeclared, problems = [], []
    for mapper in Base.registry.mappers:
        model, table = mapper.class_, mapper.local_table
        pii = set(getattr(model, "__pii__", ()))
        not_pii = set(getattr(model, "__not_pii__", ()))
        for name in sorted(pii | not_pii):
            if name not in table.c:
                problems.append(f"{model.__name__}.{name} is declared but is not a column")
        for name in sorted(pii):
            if name in table.c and not table.c[name].nullable:
                problems.append(f"{model.__name__}.{name} is __pii__ but NOT NULL: redact sets it to NULL")
        if pii and not getattr(model, "__customer_match__", None):
            problems.append(f"{model.__name__} has __pii__ but no __customer_match__: its rows cannot be found")
        if getattr(model, "__customer_match__", None) and "shop_id" not in table.c:
            problems.append(f"{model.__name__} declares __customer_match__ but has no shop_id")
        for column in table.columns:
            padded = f"_{column.name}_"
            if any(f"_{word}_" in padded for word in PERSONAL_NAMES) and column.name not in pii | not_pii:
                undeclared.append(f"{model.__name__}.{column.name}")
    assert problems == []
    assert undeclared == [], f"declare these in __pii__ or __not_pii__: {undeclared}"


def test_export_and_erasure_cover_every_declared_model():
    models = compliance.customer_models()
    assert Order in models and ComplianceRequest in models
    assert {m for m in (mapper.class_ for mapper in Base.registry.mappers) if getattr(m, "__customer_match__", None)} \
        == set(models)
