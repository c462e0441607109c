"""The customer's return request page through the app proxy, against the Shopify emulator over real
HTTP: the emulator delivers its webhooks to our app served on a loopback port, our jobs run in RQ
burst workers. A German customer's order (two black tees) is shipped at Shopify; the form files
the return at Shopify (REQUESTED there), stores one row, and the ``returns/request`` webhook that
follows adds none. Every bad input is a 4xx that changes nothing, at Shopify or here."""

from __future__ import annotations

import re
import time
import urllib.parse

import pytest
from sqlalchemy import func, select

from bench.common import free_port
from connectors.shopify.signatures import proxy_signature
from integration import create_app
from integration.extensions import db, queues
from integration.models import Order, OutboundOrder, Return, ReturnLine, ReturnRulesRow, Shipment, Shop, Variant
from integration.models.notification import Notification
from integration.notices import links
from integration.notices import render as rendering
from integration.shops.shopify_client import store_for
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig
from tests.conftest import API_SECRET, make_config
from tests.helpers import Drainer
from tests.helpers_warehouse import make_account, make_warehouse
from tests.sandbox.test_shopify_emulator_returns import ship
from tests.shopify_fixtures import SHOPIFY_SHOP

BERLIN = {"first_name": "Ada", "last_name": "Lovelace", "address1": "Unter den Linden 1", "city": "Berlin",
          "zip": "10117", "country_code": "DE"}


class Stack:
    def __init__(self, app, shopify, worker, shop_id: int, order_id: int) -> None:
        self.app, self.shopify, self.worker = app, shopify, worker
        self.shop_id, self.order_id = shop_id, order_id
        self.web = app.test_client()

    def settle(self) -> None:
        for _ in range(20):
            self.shopify.flush_webhooks()
            self.worker.run()
            self.shopify.flush_webhooks()
            if not any(q.count for q in queues.all()):
                return
        raise AssertionError("the system did not settle")

    @property
    def shop(self) -> Shop:
        return db.session.get(Shop, self.shop_id)

    @property
    def order(self) -> Order:
        return db.session.get(Order, self.order_id)

    def returnable(self) -> list[tuple[str | None, int]]:
        return [(ln.sku, ln.quantity) for ln in store_for(self.shop).get_returnable_lines(self.order.external_id)]

    def query(self, params: dict, *, shop: str = SHOPIFY_SHOP, customer: str = "", age: int = 0) -> str:
        full = {**params, "shop": shop, "timestamp": str(int(time.time()) - age), "path_prefix": "/apps/nearstock",
                "logged_in_customer_id": customer}
        full["signature"] = proxy_signature(full, API_SECRET)
        return urllib.parse.urlencode(full)

    def open_form(self, **kwargs) -> tuple[str, dict[str, str]]:
        """GET the page as the delivered e-mail's link opens it: (its HTML, the form's token and line keys)."""
        link = urllib.parse.urlsplit(links.returns_url(self.shop, self.order_id))
        assert link.path == "/apps/nearstock/returns"
        page = self.web.get(f"/proxy/returns?{self.query(dict(urllib.parse.parse_qsl(link.query)), **kwargs)}")
        assert page.status_code == 200, page.get_data(as_text=True)
        html = page.get_data(as_text=True)
        token = re.search(r'name="f" value="([^"]+)"', html).group(1)
        keys = re.findall(r'name="quantity-([0-9]+)"', html)
        return html, {"token": token, "key": keys[0]}

    def post(self, form: dict, *, query: str | None = None, **kwargs):
        return self.web.post(f"/proxy/returns?{query or self.query({}, **kwargs)}", data=form)


@pytest.fixture
def stack(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    shopify = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml's webhooks
    app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=app_url, SHOPIFY_ENDPOINT=shopify.url))
    server = serve(app, port=port)
    context = app.app_context()
    context.push()
    try:
        berlin = shopify.add_location(SHOPIFY_SHOP, "Berlin", "DE", city="Berlin", zip="10115")
        specs = [{"sku": "TEE-BLK-M", "title": "Black / M", "price": "25.00", "quantities": {berlin: 10}},
                 {"sku": "TEE-WHT-M", "title": "White / M", "price": "25.00", "quantities": {berlin: 5}}]
        product = shopify.add_product(SHOPIFY_SHOP, "Organic Tee", specs)
        other = [{"sku": "MUG-RED", "title": "Red", "price": "9.00", "quantities": {berlin: 5}}]
        other_product = shopify.add_product(SHOPIFY_SHOP, "Mug", other)
        token = shopify.grant_token(SHOPIFY_SHOP, shopify.oauth.default_scopes)
        shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed", currency="EUR")
        db.session.add(shop)
        db.session.flush()
        for product_id, spec in [(product, s) for s in specs] + [(other_product, s) for s in other]:
            db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id=product_id,
                                   inventory_item_id=spec["inventory_item_id"], sku=spec["sku"], title=spec["title"]))
        # Every reason but "changed my mind"; the shop approves nothing by itself.
        db.session.add(ReturnRulesRow(shop_id=shop.id, window_days=30, accepted_reasons=[
            "SIZE_TOO_SMALL", "SIZE_TOO_LARGE", "DEFECTIVE", "WRONG_ITEM", "NOT_AS_DESCRIBED"],
            non_returnable_skus=[], auto_approve=False, reship_when_lost=False))
        db.session.commit()
        order_gid = shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "TEE-BLK-M", "quantity": 2}],
                                      shipping_address=BERLIN, email="ada@example.com", locale="de")
        stack = Stack(app, shopify, Drainer(app), shop.id, 0)
        stack.settle()
        stack.order_id = db.session.execute(select(Order.id).where(Order.external_id == order_gid)).scalar_one()
        ship(shopify, token, order_gid)
        stack.settle()
        yield stack
    finally:
        db.session.remove()
        context.pop()
        server.shutdown()


def returns_count() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.execute(select(func.count()).select_from(Return)).scalar(),
            db.session.execute(select(func.count()).select_from(ReturnLine)).scalar())


def test_a_refund_request_is_filed_at_shopify_and_stored_once(stack):
    html, form = stack.open_form()
    assert "Artikel zurücksenden oder umtauschen" in html  # the order's language
    assert "Beschädigt oder defekt" in html and "Ich habe es mir anders überlegt" not in html  # accepted reasons only
    assert "White / M" in html and "MUG-RED" not in html  # exchange: the same product's other variants
    assert "{{" not in html and "{%" not in html
    fields = {"f": form["token"], f"quantity-{form['key']}": "1", f"reason-{form['key']}": "DEFECTIVE",
              "kind": "refund", "note": "Naht offen"}
    answer = stack.post(fields)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "Vielen Dank" in answer.get_data(as_text=True)
    ret = db.session.execute(select(Return)).scalar_one()
    assert (ret.source, ret.kind, ret.status, ret.order_id) == ("tracking_page", "refund", "requested", stack.order_id)
    [line] = db.session.execute(select(ReturnLine)).scalars().all()
    assert (line.sku, line.quantity, line.reason) == ("TEE-BLK-M", 1, "DEFECTIVE")
    at_shopify = store_for(stack.shop).get_return(ret.shopify_return_id)
    assert at_shopify.status == "REQUESTED" and at_shopify.lines[0].customer_note == "Naht offen"
    assert stack.returnable() == [("TEE-BLK-M", 1)]

    stack.settle()  # returns/request reaches the app: the same return, no second row
    assert returns_count() == (1, 1)
    # The same signed request again (a replay), and the same form sent twice: 409, nothing new.
    assert stack.post(fields).status_code == 409
    assert returns_count() == (1, 1) and stack.returnable() == [("TEE-BLK-M", 1)]


def test_the_delivered_email_and_the_tracking_page_lead_to_the_form(stack):
    delivered = Notification(shop_id=stack.shop_id, kind="delivered", subject=f"order:{stack.order_id}",
                             recipient="ada@example.com", locale="de")
    link = links.for_notification(delivered, stack.shop, stack.order)["returns"]
    assert link == links.returns_url(stack.shop, stack.order_id)
    rendered = rendering.render("delivered", {"order_name": "#1001"}, locale="de", branding=rendering.SAMPLE_BRANDING,
                                links={"returns": link})
    assert "Einen Artikel zurücksenden" in rendered.html and link.replace("&", "&amp;") in rendered.html
    token = links.tracking_token(stack.shop_id, stack.order_id)
    no_parcel = stack.web.get(f"/proxy/track?{stack.query({'t': token})}").get_data(as_text=True)
    assert "returns?t=" not in no_parcel  # nothing of ours has shipped yet
    warehouse = make_warehouse(stack.shop, make_account(stack.shop), "DEWH", "DE", name="Berlin")
    outbound = OutboundOrder(shop_id=stack.shop_id, order_id=stack.order_id, warehouse_id=warehouse.id,
                             reference="NS-1", status="shipped")
    db.session.add(outbound)
    db.session.flush()
    db.session.add(Shipment(shop_id=stack.shop_id, order_id=stack.order_id, outbound_id=outbound.id,
                            tracking_number="T1", carrier="DHL", lines=[["TEE-BLK-M", 2]], status="Delivered"))
    db.session.commit()
    page = stack.web.get(f"/proxy/track?{stack.query({'t': token})}").get_data(as_text=True)
    # Relative (/apps/nearstock/returns on the storefront), with a tracking token naming the order.
    shown = re.search(r'href="returns\?t=([^"]+)"', page).group(1)
    assert links.read_tracking_token(shown) == {"s": stack.shop_id, "o": stack.order_id}


def test_an_exchange_names_the_variant_sent_instead(stack):
    _html, form = stack.open_form()
    answer = stack.post({"f": form["token"], f"quantity-{form['key']}": "2", f"reason-{form['key']}": "SIZE_TOO_SMALL",
                         f"exchange-{form['key']}": "TEE-WHT-M", "kind": "exchange"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    stack.settle()
    ret = db.session.execute(select(Return)).scalar_one()
    line = db.session.execute(select(ReturnLine)).scalar_one()
    assert (ret.kind, line.quantity, line.exchange_sku) == ("exchange", 2, "TEE-WHT-M")
    assert stack.returnable() == []
    link = urllib.parse.urlsplit(links.returns_url(stack.shop, stack.order_id))
    page = stack.web.get(f"/proxy/returns?{stack.query(dict(urllib.parse.parse_qsl(link.query)))}")
    assert page.status_code == 200 and 'name="f"' not in page.get_data(as_text=True)  # nothing left to return


def _bad_cases(stack, form: dict) -> list[tuple[str, object, int]]:
    key = form["key"]
    good = {"f": form["token"], f"quantity-{key}": "1", f"reason-{key}": "DEFECTIVE", "kind": "refund"}
    other = Shop(domain="other.myshopify.com", access_token="x", status="installed")
    db.session.add(other)
    db.session.commit()
    signed = stack.query({})
    return [
        ("unsigned", lambda: stack.web.post("/proxy/returns", data=good), 401),
        ("forged signature", lambda: stack.web.post(f"/proxy/returns?{signed[:-4]}beef", data=good), 401),
        ("stale", lambda: stack.post(good, age=600), 403),
        ("another shop's proxy", lambda: stack.post(good, shop="other.myshopify.com"), 404),
        ("another shop's token", lambda: stack.post({**good, "f": links.return_form_token(other.id, stack.order_id)}),
         404),
        ("forged form token", lambda: stack.post({**good, "f": form["token"][:-3] + "abc"}), 404),
        ("another customer", lambda: stack.post(good, customer="999999"), 403),
        ("unknown reason", lambda: stack.post({**good, f"reason-{key}": "UNWANTED"}), 422),
        ("not a reason", lambda: stack.post({**good, f"reason-{key}": "BECAUSE"}), 422),
        ("above returnable", lambda: stack.post({**good, f"quantity-{key}": "3"}), 422),
        ("not a returnable line", lambda: stack.post({**good, "quantity-1": "1", "reason-1": "DEFECTIVE"}), 422),
        ("nothing chosen", lambda: stack.post({**good, f"quantity-{key}": "0"}), 422),
        ("exchange for another product", lambda: stack.post({**good, "kind": "exchange",
                                                             f"exchange-{key}": "MUG-RED"}), 422),
        ("exchange for the same variant", lambda: stack.post({**good, "kind": "exchange",
                                                              f"exchange-{key}": "TEE-BLK-M"}), 422),
        ("unknown kind", lambda: stack.post({**good, "kind": "gift"}), 422),
        ("note too long", lambda: stack.post({**good, "note": "x" * 301}), 422),
        ("negative quantity", lambda: stack.post({**good, f"quantity-{key}": "-1"}), 400),
        ("unknown field", lambda: stack.post({**good, "order_id": "1"}), 400),
        ("oversized", lambda: stack.post({**good, "note": "x" * 20_000}), 413),
        ("not a form", lambda: stack.web.post(f"/proxy/returns?{stack.query({})}", json=good), 415),
        ("forged tracking link", lambda: stack.web.get(f"/proxy/returns?{stack.query({'t': 'abc.def'})}"), 404),
    ]


def test_every_bad_input_is_refused_and_changes_nothing(stack):
    _html, form = stack.open_form()
    for name, send, status in _bad_cases(stack, form):
        answer = send()
        assert answer.status_code == status, (name, answer.status_code, answer.get_data(as_text=True)[:300])
        assert returns_count() == (0, 0), name
    assert stack.returnable() == [("TEE-BLK-M", 2)]
    stack.settle()
    assert returns_count() == (0, 0)
    # After all that the customer's own form still works once.
    assert stack.post({"f": form["token"], f"quantity-{form['key']}": "1", f"reason-{form['key']}": "DEFECTIVE",
                       "kind": "refund"}).status_code == 200
    assert returns_count() == (1, 1)
