"""The embedded admin's orders API against real rows: orders routed by the real allocation,
pushed, shipped and tracked through the real services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, event, select, text, update

from integration import migrate
from integration.domain.warehousing import ExceptionReason, Line, Outbound, OutboundStatus, Package, TrackingEvent
from integration.domain.warehousing import TrackingStatus as TS
from integration.extensions import db
from integration.loyalty import earning
from integration.models import Allocation, Order, OutboundOrder
from integration.orders import allocation, shipments
from tests.helpers_warehouse import make_account, make_order, make_warehouse, set_stock
from tests.test_loyalty_support import auth, gid, make_program, make_shop

OTHER = "beta.myshopify.com"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def route(shop, number: str, lines, country="DE", email="ada@example.com") -> Order:
    """An order placed an hour before T0 and routed by the real allocation; its clock is then set
    back to T0 - 1 h so the pushes and parcels that follow (at T0 and later) come after it."""
    order = make_order(shop, f"gid://shopify/Order/{number}", lines, country=country, email=email)
    order.name = f"#{number}"
    order.total_price, order.locale = Decimal("25.00"), "de"
    order.customer_external_id = gid(int(number))  # a loyalty member: shipping earns points
    for line in order.lines:
        line.price = Decimal("12.50")
    order.external_created_at = T0 - timedelta(hours=1, minutes=5)
    db.session.commit()
    allocation.allocate_order(order.id)
    db.session.execute(update(Order).where(Order.id == order.id).values(allocated_at=T0 - timedelta(hours=1)))
    db.session.commit()
    return order


def push(order: Order, warehouse, *, at: datetime, external_id: str) -> OutboundOrder:
    """What outbound.push records when the warehouse takes the order (status, number, ship-by)."""
    outbound = db.session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order.id,
                                                              OutboundOrder.warehouse_id == warehouse.id)).scalar_one()
    outbound.status, outbound.external_id, outbound.pushed_at = "pushed", external_id, at
    outbound.sla_due_at = at + timedelta(hours=warehouse.handling_hours)
    db.session.commit()
    return outbound


def ship(outbound: OutboundOrder, sku: str, qty: int, *, at: datetime, tracking: str) -> int:
    [shipment_id] = shipments.record_outbound_state(outbound.id, Outbound(
        reference=outbound.reference, external_id=outbound.external_id, status=OutboundStatus.SHIPPED,
        packages=(Package(tracking, carrier="DHL", lines=(Line(sku, qty),), shipped_at=at,
                          tracking_url=f"https://track.example/{tracking}"),)))
    return shipment_id


@pytest.fixture
def store(app):
    """Shop A with a German and a French warehouse and five orders that took each road."""
    shop = make_shop()
    make_program(shop.id)  # points on shipment: the timeline shows them
    account = make_account(shop)
    de = make_warehouse(shop, account, "DEWH", "DE", name="Berlin", region="EU", handling_hours=24)
    fr = make_warehouse(shop, account, "FRWH", "FR", name="Lyon", region="EU", handling_hours=48)
    for sku, at_de, at_fr in (("MUG", 10, 0), ("CAP", 0, 5), ("TEE", 3, 3), ("BAG", 3, 2)):
        set_stock(shop, de, sku, at_de)
        set_stock(shop, fr, sku, at_fr)
    local = route(shop, "1001", [("MUG", 2)])  # Berlin, local
    only = route(shop, "1002", [("CAP", 1)], country="AT")  # only Lyon has caps
    abroad = route(shop, "1003", [("TEE", 1)], country="AT")  # both could: Berlin by rank
    split = route(shop, "1004", [("BAG", 7)], email="bea@example.com")  # 3 + 2, 2 backordered
    unrouted = make_order(shop, "gid://shopify/Order/1005", [("MUG", 1)], country="FR")
    unrouted.name = "#1005"
    db.session.commit()
    shipped = push(local, de, at=T0, external_id="WI-1")
    shipment_id = ship(shipped, "MUG", 2, at=T0 + timedelta(hours=30), tracking="TRK1001")  # 6 h late
    for tracked in (TrackingEvent("TRK1001", TS.IN_TRANSIT, T0 + timedelta(hours=40)),
                    TrackingEvent("TRK1001", TS.EXCEPTION, T0 + timedelta(days=2),
                                  reason=ExceptionReason.CUSTOMS_DELAY, description="Held at customs"),
                    TrackingEvent("TRK1001", TS.DELIVERED, T0 + timedelta(days=4))):
        shipments.record_tracking(shipment_id, [tracked])  # as the carrier reports them, one by one
    earning.earn_for_shipment(shipment_id, now=T0 + timedelta(hours=31))  # the job the parcel enqueued
    push(only, fr, at=T0, external_id="WI-2")  # open long after its 48 h: overdue
    push(abroad, de, at=datetime.now(UTC), external_id="WI-3")  # open, due tomorrow
    return {"shop": shop, "de": de, "fr": fr, "local": local, "only": only, "abroad": abroad, "split": split,
            "unrouted": unrouted, "shipment_id": shipment_id}


def get(client, url, shop_domain="acme.myshopify.com"):
    return client.get(url, headers=auth(shop_domain))


def names(body) -> list[str]:
    return [item["name"] for item in body["items"]]


def test_list_shows_routing_reasons_status_ship_by_and_tracking(client, store):
    r = get(client, "/api/orders")
    assert r.status_code == 200
    body = r.get_json()
    assert names(body) == ["#1005", "#1004", "#1003", "#1002", "#1001"]  # newest first
    assert body["page"] == 1 and body["has_next_page"] is False and body["has_previous_page"] is False
    by_name = {item["name"]: item for item in body["items"]}

    local = by_name["#1001"]
    # Delivered says the carrier; the warehouse's outbound order stays "shipped" until it reports more.
    assert local["reasons"] == ["local"] and local["status"] == "shipped"
    [line] = local["lines"]
    [routed] = line["routes"]
    assert routed["warehouse"] == {"id": store["de"].id, "name": "Berlin"} and routed["reason"] == "local"
    assert "local warehouse" in routed["detail"] and routed["quantity"] == 2
    [outbound] = local["outbounds"]
    assert outbound["external_id"] == "WI-1" and outbound["warehouse"]["handling_hours"] == 24
    assert outbound["ship_by"] == (T0 + timedelta(hours=24)).isoformat() and outbound["sla"] == "late"
    [parcel] = outbound["parcels"]
    assert (parcel["tracking_number"], parcel["carrier"], parcel["tracking_url"]) == \
        ("TRK1001", "DHL", "https://track.example/TRK1001")
    assert parcel["status"] == "Delivered"

    assert by_name["#1002"]["reasons"] == ["only_stock"]
    assert by_name["#1002"]["lines"][0]["routes"][0]["warehouse"]["name"] == "Lyon"
    assert by_name["#1002"]["overdue"] is True and by_name["#1002"]["outbounds"][0]["sla"] == "overdue"
    assert by_name["#1003"]["reasons"] == ["abroad"] and by_name["#1003"]["outbounds"][0]["sla"] == "due"
    split = by_name["#1004"]
    assert split["reasons"] == ["split", "backordered"] and split["status"] == "pending"
    routes = split["lines"][0]["routes"]
    assert sorted((r["warehouse"] or {}).get("name", "-") + f":{r['quantity']}" for r in routes) == \
        ["-:2", "Berlin:3", "Lyon:2"]
    assert by_name["#1005"]["status"] == "unrouted" and by_name["#1005"]["reasons"] == []
    assert by_name["#1005"]["lines"][0] == {"sku": "MUG", "name": "MUG", "quantity": 1, "routes": []}


FILTERS = [
    ("status=shipped", ["#1001"]),
    ("status=delivered", []),
    ("status=open", ["#1004", "#1003", "#1002"]),
    ("status=overdue", ["#1002"]),
    ("status=pending", ["#1004"]),
    ("status=unrouted", ["#1005"]),
    ("reason=local", ["#1001"]),
    ("reason=only_stock", ["#1002"]),
    ("reason=abroad", ["#1003"]),
    ("reason=split", ["#1004"]),
    ("reason=backordered", ["#1004"]),
    ("country=at", ["#1003", "#1002"]),
    ("country=DE&reason=split", ["#1004"]),
    ("q=%231002", ["#1002"]),
    ("q=100", ["#1005", "#1004", "#1003", "#1002", "#1001"]),
    ("q=1003", ["#1003"]),
    ("q=ca", ["#1002"]),  # a SKU's start, any case
    ("q=BAG", ["#1004"]),
    ("q=bea@example.com", ["#1004"]),
    ("q=BEA@example.com", ["#1004"]),  # the address as typed, or lower-cased
    ("q=bea@example.co", []),
    ("q=bea@example", []),  # never a part of an address
    ("q=%25", []),  # LIKE wildcards are literal
    ("q=_", []),
]


def test_filters_and_search(client, store):
    for query, expected in FILTERS:
        r = get(client, f"/api/orders?{query}")
        assert r.status_code == 200, r.get_json()
        assert names(r.get_json()) == expected, query


def test_warehouse_filter(client, store):
    assert names(get(client, f"/api/orders?warehouse={store['fr'].id}").get_json()) == ["#1004", "#1002"]
    assert names(get(client, f"/api/orders?warehouse={store['de'].id}&status=open").get_json()) == \
        ["#1004", "#1003"]


def test_pagination_on_the_server(client, store):
    first = get(client, "/api/orders?limit=2").get_json()
    second = get(client, "/api/orders?limit=2&page=2").get_json()
    third = get(client, "/api/orders?limit=2&page=3").get_json()
    assert names(first) == ["#1005", "#1004"] and first["has_next_page"] and not first["has_previous_page"]
    assert names(second) == ["#1003", "#1002"] and second["has_next_page"] and second["has_previous_page"]
    assert names(third) == ["#1001"] and not third["has_next_page"]
    beyond = get(client, "/api/orders?limit=2&page=9").get_json()
    assert beyond["items"] == [] and not beyond["has_next_page"]


def test_one_query_per_table_whatever_the_page_size(app, client, store):
    for n in range(30):
        route(store["shop"], str(2000 + n), [("MUG", 1)], country="DE" if n % 2 else "FR")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert len(get(client, "/api/orders?limit=5").get_json()["items"]) == 5
        small = len(statements)
        statements.clear()
        assert len(get(client, "/api/orders?limit=35").get_json()["items"]) == 35
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == small  # lines, allocations, outbounds, parcels: batched, not per row


def test_timeline_tells_the_whole_story_in_order(client, store):
    r = get(client, f"/api/orders/{store['local'].id}")
    assert r.status_code == 200
    body = r.get_json()
    assert body["order"]["name"] == "#1001"
    steps = [e["step"] for e in body["events"]]
    assert steps[:3] == ["received", "routed", "pushed"]
    assert steps.index("shipped") < steps.index("exception") < steps.index("delivered")
    times = [e["at"] for e in body["events"]]
    assert times == sorted(times)
    events = {e["step"]: e for e in body["events"]}
    assert events["routed"]["warehouse"]["name"] == "Berlin" and events["routed"]["reason"] == "local"
    assert events["routed"]["lines"] == [{"sku": "MUG", "quantity": 2}]
    assert events["pushed"]["external_id"] == "WI-1" and events["pushed"]["ship_by"] == \
        (T0 + timedelta(hours=24)).isoformat()
    assert events["shipped"]["carrier"] == "DHL" and events["shipped"]["tracking_number"] == "TRK1001"
    assert events["shipped"]["sla"] == "late"
    assert events["exception"]["reason"] == "customs_delay" and events["exception"]["description"] == "Held at customs"
    assert events["delivered"]["at"] == (T0 + timedelta(days=4)).isoformat()
    notices = [(e["kind"], e["language"], e["status"]) for e in body["events"] if e["step"] == "notice"]
    assert ("shipped", "de", "queued") in notices and ("delivered", "de", "queued") in notices
    assert ("exception", "de", "queued") in notices
    points = [e for e in body["events"] if e["step"] == "points"]
    assert [(p["kind"], p["points"], p["local"]) for p in points] == [("earn", 50, True)]  # 25 EUR, local x2
    assert ("points_earned", "de", "queued") in notices


def test_timeline_of_split_and_unrouted_orders(client, store):
    split = get(client, f"/api/orders/{store['split'].id}").get_json()
    routed = [e for e in split["events"] if e["step"] == "routed"]
    assert sorted(((e["warehouse"] or {}).get("name", "-"), e["reason"]) for e in routed) == \
        [("-", "backordered"), ("Berlin", "split"), ("Lyon", "split")]
    assert "pushed" not in [e["step"] for e in split["events"]]
    unrouted = get(client, f"/api/orders/{store['unrouted'].id}").get_json()
    assert [e["step"] for e in unrouted["events"]] == ["received"]


def test_another_shop_sees_none_of_it(client, store):
    other = make_shop(OTHER)
    theirs = make_warehouse(other, make_account(other), "USWH", "US")
    assert get(client, "/api/orders", OTHER).get_json()["items"] == []
    for order in ("local", "split", "unrouted"):
        r = get(client, f"/api/orders/{store[order].id}", OTHER)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    # Shop A's warehouse is unknown to shop B, and B's to A.
    r = get(client, f"/api/orders?warehouse={store['de'].id}", OTHER)
    assert r.status_code == 400 and "warehouse" in r.get_json()["error"]["message"]
    assert get(client, f"/api/orders?warehouse={theirs.id}").status_code == 400
    assert get(client, "/api/orders?q=ada@example.com", OTHER).get_json()["items"] == []
    assert client.get("/api/orders").status_code == 401
    assert client.get(f"/api/orders/{store['local'].id}").status_code == 401


HOSTILE = [
    "status=bogus", "status=Shipped", "reason=nearby", "country=DEU", "country=1A", "country=%C3%84%C3%96",
    "warehouse=abc", "warehouse=-1", "warehouse=0", "warehouse=99999999999999999999999", "warehouse=%EF%BC%91",
    "page=0", "page=-1", "page=10001", "page=abc", "page=1.5", "page=%EF%BC%92", "limit=0", "limit=101",
    "limit=abc", "q=" + "x" * 201, "q=a%01b", "q=%E2%80%AEabc",
]


def test_hostile_parameters_are_400_never_500(client, store):
    for query in HOSTILE:
        r = get(client, f"/api/orders?{query}")
        assert r.status_code == 400, (query, r.status_code)
        assert r.get_json()["error"]["message"]
    for path in ("/api/orders/0", "/api/orders/abc", "/api/orders/99999999999999999999999", "/api/orders/-1",
                 "/api/orders/999999"):
        assert get(client, path).status_code == 404, path


def test_old_allocations_get_their_reason_derived(database_url):
    """Rows allocated before reason codes existed get one from what they recorded."""
    migrate.downgrade(database_url, "0007st")  # the revision before reason codes
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO shops (id, domain, status, scopes, installed_at, created_at, updated_at) "
                              "VALUES (1, 'old.myshopify.com', 'installed', '', :t, :t, :t)"), {"t": T0})
            conn.execute(text("INSERT INTO warehouse_accounts (id, shop_id, provider, name, credentials, active, "
                              "created_at) VALUES (1, 1, 'winit', 'w', 'x', true, :t)"), {"t": T0})
            for wid, code, country in ((1, "DEWH", "DE"), (2, "FRWH", "FR")):
                conn.execute(text("INSERT INTO warehouses (id, shop_id, account_id, code, name, country_code, "
                                  "handling_hours, transit_days, priority, active, created_at, updated_at) VALUES "
                                  "(:id, 1, 1, :code, :code, :c, 24, '{}', 100, true, :t, :t)"),
                             {"id": wid, "code": code, "c": country, "t": T0})
            rows = [  # order id, buyer's country, [(warehouse, reason sentence)]
                (1, "DE", [(1, "Berlin (local warehouse, 1-3 days to DE) ships the whole order")]),
                (2, "de", [(1, "Berlin ships the whole order")]),  # no sentence hint: the countries say so
                (3, "AT", [(2, "Lyon (warehouse in FR) ships the whole order")]),
                (4, "DE", [(1, "Berlin (local warehouse) ships 3 of 7 (line split)"),
                           (2, "Lyon (warehouse in FR) ships 2 of 7 (line split)"),
                           (None, "backordered: no warehouse has enough stock")]),
            ]
            for order_id, country, allocations in rows:
                conn.execute(text("INSERT INTO orders (id, shop_id, channel, external_id, name, shipping_country, "
                                  "created_at) VALUES (:id, 1, 'shopify', :ext, :name, :c, :t)"),
                             {"id": order_id, "ext": f"o{order_id}", "name": f"#{order_id}", "c": country, "t": T0})
                conn.execute(text("INSERT INTO order_lines (id, order_id, external_id, sku, name, quantity) "
                                  "VALUES (:id, :id, 'l', 'A', 'A', 7)"), {"id": order_id})
                for warehouse_id, reason in allocations:
                    conn.execute(text("INSERT INTO allocations (shop_id, order_id, order_line_id, warehouse_id, sku, "
                                      "quantity, status, reason, created_at, updated_at) VALUES "
                                      "(1, :o, :o, :w, 'A', 1, 'reserved', :r, :t, :t)"),
                                 {"o": order_id, "w": warehouse_id, "r": reason, "t": T0})
        migrate.upgrade(database_url)
        with engine.connect() as conn:
            derived = conn.execute(text("SELECT order_id, warehouse_id, route_reason FROM allocations "
                                        "ORDER BY order_id, id")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in derived] == [(1, 1, "local"), (2, 1, "local"), (3, 2, "abroad"),
                                          (4, 1, "split"), (4, 2, "split"), (4, None, "backordered")]


def test_allocation_records_the_reason_code(store):
    codes = dict(db.session.execute(select(Allocation.order_id, Allocation.route_reason)
                                    .where(Allocation.order_id.in_([store["local"].id, store["only"].id,
                                                                    store["abroad"].id]))).all())
    assert codes == {store["local"].id: "local", store["only"].id: "only_stock", store["abroad"].id: "abroad"}
