"""ShipBobProvider against the running ShipBob emulator, over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.http import make_session
from connectors.warehouses.registry import build
from connectors.warehouses.shipbob import ShipBobProvider
from integration.domain.orders import Address
from integration.domain.ports import WarehouseProvider
from integration.domain.warehousing import (
    Capability,
    ExceptionReason,
    InboundRequest,
    Line,
    OutboundRequest,
    OutboundStatus,
    ReturnRequest,
    SkuSpec,
    TrackingStatus,
)
from sandbox.server import serve
from sandbox.warehouses.shipbob_webhooks import sign
from tests.shipbob_fixtures import SHIPBOB_CHANNEL, SHIPBOB_TOKEN

VENLO = "87"
AMSTERDAM = Address(first_name="Ada", last_name="Lovelace", address1="Damrak 1", city="Amsterdam", zip="1012 LG",
                    country_code="NL", phone="+31 20 000 0000")
HOUR = 3600.0


def outbound(reference: str, *, sku: str = "TEE-BLK-M", quantity: int = 1, to: Address = AMSTERDAM,
             warehouse: str = VENLO) -> OutboundRequest:
    return OutboundRequest(reference=reference, warehouse_code=warehouse, ship_to=to, lines=(Line(sku, quantity),),
                           email="ada@example.com", order_name="#1001")


@pytest.fixture
def stocked(shipbob_emulator, shipbob_provider):
    shipbob_provider.upsert_sku(SkuSpec("TEE-BLK-M", "Organic Tee black M", barcode="4006381333931", weight_g=180,
                                        length_mm=300, width_mm=250, height_mm=20, hs_code="6109.10",
                                        origin_country="PT", declared_value=12, currency="EUR"))
    shipbob_emulator.set_stock(int(VENLO), "TEE-BLK-M", 20)
    return shipbob_provider


class Receiver:
    """A local webhook endpoint: keeps every request; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.fail_first = fail_first
        self.server = serve(self)
        self.url = self.server.url + "/webhooks/shipbob"

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        self.requests.append((headers, body))
        status = "500 Internal Server Error" if len(self.requests) <= self.fail_first else "200 OK"
        start_response(status, [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def receiver():
    receivers: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        receivers.append(Receiver(**kwargs))
        return receivers[-1]

    yield make
    for r in receivers:
        r.server.shutdown()


# -- contract ------------------------------------------------------------------------------------

def test_registry_builds_a_port_implementation(shipbob_emulator, redis_conn):
    provider = build("shipbob", {"token": SHIPBOB_TOKEN, "channel_id": str(SHIPBOB_CHANNEL)}, redis=redis_conn,
                     account_key="test", endpoint=shipbob_emulator.url)
    assert isinstance(provider, ShipBobProvider) and isinstance(provider, WarehouseProvider)
    assert Capability.PUSH_SHIPMENTS in provider.capabilities and Capability.PUSH_INVENTORY not in provider.capabilities
    assert SHIPBOB_TOKEN not in repr(provider)


def test_list_warehouses(shipbob_provider):
    sites = {s.code: s for s in shipbob_provider.list_warehouses()}
    assert set(sites) == {"10", "22", "87"}
    assert sites["87"].country_code == "NL" and sites["87"].name == "Venlo (NL)"


def test_upsert_sku_creates_then_updates(shipbob_emulator, stocked):
    variant = shipbob_emulator.variants["TEE-BLK-M"]
    assert variant["dimension"] == {"length": 11.81, "width": 9.84, "height": 0.79}
    assert variant["customs"]["hs_tariff_code"] == "6109.10" and variant["weight"] == 6.35
    stocked.upsert_sku(SkuSpec("TEE-BLK-M", "Organic Tee, black, M"))
    assert len(shipbob_emulator.products) == 1
    assert shipbob_emulator.variants["TEE-BLK-M"]["name"] == "Organic Tee, black, M"


# -- outbound ------------------------------------------------------------------------------------

def test_create_outbound_twice_is_one_order(shipbob_emulator, stocked):
    first = stocked.create_outbound(outbound("SO-1"))
    again = stocked.create_outbound(outbound("SO-1"))  # a retry after a lost answer
    assert first.status is OutboundStatus.RECEIVED and first.warehouse_code == VENLO
    assert again.external_id == first.external_id
    assert len(shipbob_emulator.orders) == 1
    assert [c["status"] for c in shipbob_emulator.calls if c["method"] == "POST"][-1] == 422
    assert stocked.get_inventory(VENLO, ["TEE-BLK-M"])[0].reserved == 1


def test_lifecycle_with_tracking_normalised(shipbob_emulator, stocked):
    stocked.create_outbound(outbound("SO-2", quantity=2))
    seen = []
    for hours in (0.6, 1.0, 6.1, 6.0, 6.0, 6.0):
        shipbob_emulator.advance(hours * HOUR)
        seen.append(stocked.get_outbound("SO-2").status)
    assert seen[0] is OutboundStatus.PICKING and seen[1] is OutboundStatus.SHIPPED
    assert seen[-1] is OutboundStatus.DELIVERED
    done = stocked.get_outbound("SO-2")
    (package,) = done.packages
    assert package.carrier == "DHL" and package.lines == (Line("TEE-BLK-M", 2),) and package.shipped_at
    events = stocked.tracking_events("SO-2")
    assert [e.status for e in events] == [TrackingStatus.INFO_RECEIVED, TrackingStatus.INFO_RECEIVED,
                                          TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY,
                                          TrackingStatus.DELIVERED]
    assert all(e.tracking_number == package.tracking_number and e.occurred_at.tzinfo for e in events)
    assert stocked.get_inventory(VENLO)[0].on_hand == 18


@pytest.mark.parametrize(("kind", "status", "reason"), [
    ("customs_delay", TrackingStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY),
    ("delivery_delay", TrackingStatus.EXCEPTION, ExceptionReason.DELIVERY_DELAY),
    ("failed_attempt", TrackingStatus.ATTEMPT_FAIL, ExceptionReason.FAILED_ATTEMPT),
    ("address_problem", TrackingStatus.EXCEPTION, ExceptionReason.ADDRESS_PROBLEM),
    ("lost", TrackingStatus.EXCEPTION, ExceptionReason.LOST),
    ("damaged", TrackingStatus.EXCEPTION, ExceptionReason.DAMAGED),
    ("returned_to_sender", TrackingStatus.EXCEPTION, ExceptionReason.RETURNED_TO_SENDER),
])
def test_carrier_exception_kinds(shipbob_emulator, stocked, kind, status, reason):
    shipbob_emulator.sim.plan_exceptions(f"SO-{kind}", [kind])
    stocked.create_outbound(outbound(f"SO-{kind}"))
    shipbob_emulator.advance(60 * HOUR)
    events = stocked.tracking_events(f"SO-{kind}")
    (exception,) = [e for e in events if e.reason is not None]
    assert (exception.status, exception.reason) == (status, reason)
    assert exception.raw_code.startswith("DeliveryException/")
    final = stocked.get_outbound(f"SO-{kind}")
    terminal = kind in ("lost", "damaged", "returned_to_sender")
    assert final.status is (OutboundStatus.SHIPPED if terminal else OutboundStatus.DELIVERED)
    assert (final.error is not None) is terminal


def test_warehouse_exceptions(shipbob_emulator, stocked):
    short = stocked.create_outbound(outbound("SO-SHORT", quantity=50))
    assert short.status is OutboundStatus.EXCEPTION and "OutOfStock" in short.error
    no_zip = stocked.create_outbound(outbound("SO-NOZIP", to=Address(name="Bo", address1="Main St 1",
                                                                      city="Berlin", country_code="DE")))
    assert no_zip.status is OutboundStatus.EXCEPTION and "InvalidAddress" in no_zip.error
    assert stocked.cancel_outbound("SO-SHORT").status is OutboundStatus.CANCELLED


def test_cancel_outbound(shipbob_emulator, stocked):
    stocked.create_outbound(outbound("SO-C1"))
    assert stocked.cancel_outbound("SO-C1").status is OutboundStatus.CANCELLED
    assert stocked.cancel_outbound("SO-C1").status is OutboundStatus.CANCELLED  # idempotent
    assert stocked.get_inventory(VENLO)[0].reserved == 0
    stocked.create_outbound(outbound("SO-C2"))
    shipbob_emulator.advance(3 * HOUR)
    with pytest.raises(PermanentError) as err:
        stocked.cancel_outbound("SO-C2")
    assert err.value.code == "not_cancellable"
    with pytest.raises(PermanentError) as err:
        stocked.get_outbound("SO-UNKNOWN")
    assert err.value.code == "not_found"


def test_invalid_requests_are_permanent_errors(stocked):
    with pytest.raises(PermanentError) as err:
        nameless = Address(address1="x", city="Amsterdam", zip="1", country_code="NL")
        stocked.create_outbound(outbound("SO-BAD", to=nameless))
    assert (err.value.code, err.value.field) == ("bad_request", "recipient.name")
    with pytest.raises(PermanentError) as err:
        stocked.create_outbound(outbound("SO-BAD2", sku="NOPE"))
    assert (err.value.code, err.value.field) == ("unprocessable", "products[0].reference_id")
    with pytest.raises(PermanentError) as err:
        stocked.create_outbound(outbound("SO-BAD3", warehouse="999"))
    assert err.value.field == "location_id"


# -- inventory -----------------------------------------------------------------------------------

def test_inventory_changes_pages_and_acknowledges(shipbob_emulator, shipbob_provider):
    for i in range(5):
        shipbob_emulator.set_stock(int(VENLO), f"SKU-{i}", 10 + i)
    shipbob_provider.page_size = 2
    first = shipbob_provider.inventory_changes(None)
    assert [r.sku for r in first.records] == ["SKU-0", "SKU-1"] and first.has_more
    # The caller crashed before storing the cursor: asking again gives the same page.
    again = shipbob_provider.inventory_changes(None)
    assert [(r.sku, r.on_hand) for r in again.records] == [(r.sku, r.on_hand) for r in first.records]
    page, skus = first, ["SKU-0", "SKU-1"]
    while page.has_more:
        page = shipbob_provider.inventory_changes(page.next_cursor)
        skus += [r.sku for r in page.records]
    assert skus == [f"SKU-{i}" for i in range(5)]
    restart = page.next_cursor  # caught up: stored, asked again later
    shipbob_emulator.set_stock(int(VENLO), "SKU-3", 99)
    changed, page = [], None
    while page is None or page.has_more:  # a new pass reports only what changed
        page = shipbob_provider.inventory_changes(page.next_cursor if page else restart)
        changed += [(r.sku, r.on_hand, r.available) for r in page.records]
    assert changed == [("SKU-3", 99, 99)]
    assert shipbob_provider.inventory_changes(page.next_cursor).records == ()
    with pytest.raises(PermanentError):
        shipbob_provider.inventory_changes("garbage")
    expired = shipbob_provider.inventory_changes("v1:/2026-07/inventory-level/locations?PageSize=2&Cursor=zzz")
    assert expired.has_more  # ShipBob refused the stale link: a new pass started from the first page


def test_inbound_wro(shipbob_emulator, stocked):
    eta = datetime(2026, 12, 1, tzinfo=UTC)
    wro = stocked.create_inbound(InboundRequest("PO-1", VENLO, (Line("TEE-BLK-M", 30),), expected_at=eta,
                                                tracking_number="1Z999"))
    assert wro.status == "Awaiting"
    again = stocked.create_inbound(InboundRequest("PO-1", VENLO, (Line("TEE-BLK-M", 30),)))
    assert again.external_id == wro.external_id
    assert stocked.get_inventory(VENLO)[0].inbound == 30
    shipbob_emulator.receive_wro(int(wro.external_id))
    (record,) = stocked.get_inventory(VENLO, ["TEE-BLK-M"])
    assert (record.on_hand, record.inbound) == (50, 0)
    with pytest.raises(PermanentError) as err:
        stocked.create_inbound(InboundRequest("PO-2", VENLO, (Line("GHOST", 1),)))
    assert err.value.code == "unknown_sku"
    with pytest.raises(PermanentError) as err:  # 2026-07: WRO validation is a 422 ProblemDetails
        stocked.create_inbound(InboundRequest("PO-3", "999", (Line("TEE-BLK-M", 1),)))
    assert (err.value.code, err.value.field) == ("unprocessable", "fulfillment_center.id")


def test_return(shipbob_emulator, stocked):
    stocked.create_outbound(outbound("SO-R"))
    shipbob_emulator.advance(40 * HOUR)
    rma = stocked.create_return(ReturnRequest("RMA-1", "SO-R", (Line("TEE-BLK-M", 1),), reason="too small"))
    assert rma.status == "AwaitingArrival" and rma.label_url is None
    assert stocked.create_return(ReturnRequest("RMA-1", "SO-R", (Line("TEE-BLK-M", 1),))) == rma
    assert len(shipbob_emulator.returns) == 1


# -- webhooks ------------------------------------------------------------------------------------

def test_webhooks_signed_retried_and_parsed(make_shipbob_emulator, make_shipbob_provider, receiver):
    inbox = receiver(fail_first=1)
    emulator = make_shipbob_emulator(app_webhook_url=inbox.url)
    provider = make_shipbob_provider(emulator)
    emulator.set_stock(int(VENLO), "TEE-BLK-M", 5)
    provider.create_outbound(outbound("SO-W"))
    emulator.advance(40 * HOUR)
    assert emulator.flush_webhooks(10)
    ids = [headers["webhook-id"] for headers, _ in inbox.requests]
    assert ids.count(ids[0]) == 2 and len(set(ids)) == len(ids) - 1  # the 500 was retried, same message id
    events = [provider.parse_webhook(headers, body) for headers, body in inbox.requests[1:]]
    topics = [e.extra["topic"] for e in events]
    assert sorted(topics) == sorted(["order.shipped", "order.shipment.delivered", "order.delivered"]
                                    + ["order.shipment.tracking.updated"] * 4)
    shipped = next(e for e in events if e.extra["topic"] == "order.shipped")
    assert shipped.kind == "outbound" and shipped.outbound.status is OutboundStatus.SHIPPED
    assert shipped.reference == "SO-W" and shipped.delivery_id == ids[0]
    tracking = [e.tracking[0].status for e in events if e.kind == "tracking"]
    assert tracking == [TrackingStatus.INFO_RECEIVED, TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY,
                        TrackingStatus.DELIVERED]
    delivered = next(e for e in events if e.extra["topic"] == "order.shipment.delivered")
    assert delivered.outbound.status is OutboundStatus.DELIVERED

    headers, body = inbox.requests[-1]
    with pytest.raises(PermanentError, match="signature"):
        provider.parse_webhook(headers, body.replace(b"SO-W", b"SO-X"))
    wrong = make_shipbob_provider(emulator, credentials={"webhook_secret": "whsec_" + "A" * 40})
    with pytest.raises(PermanentError, match="signature"):
        wrong.parse_webhook(headers, body)
    old = str(int(time.time()) - 3600)
    stale = {**headers, "webhook-timestamp": old,
             "webhook-signature": sign(emulator.webhook_secret, headers["webhook-id"], old, body)}
    with pytest.raises(PermanentError) as err:
        provider.parse_webhook(stale, body)
    assert err.value.code == "stale_timestamp"
    with pytest.raises(PermanentError) as err:
        provider.parse_webhook({k: v for k, v in headers.items() if k != "webhook-signature"}, body)
    assert err.value.code == "missing_signature"


def test_warehouse_exception_webhooks(make_shipbob_emulator, make_shipbob_provider, receiver):
    inbox = receiver()
    emulator = make_shipbob_emulator(app_webhook_url=inbox.url)
    provider = make_shipbob_provider(emulator)
    emulator.set_stock(int(VENLO), "TEE-BLK-M", 1)
    provider.create_outbound(outbound("SO-E1", quantity=3))
    provider.create_outbound(outbound("SO-E2", to=Address(name="Bo", address1="Main 1", city="Austin",
                                                          country_code="US")))
    provider.cancel_outbound("SO-E2")
    assert emulator.flush_webhooks(5)
    events = [provider.parse_webhook(h, b) for h, b in inbox.requests]
    assert [(e.extra["topic"], e.reference, e.outbound.status) for e in events] == [
        ("order.shipment.exception", "SO-E1", OutboundStatus.EXCEPTION),
        ("order.shipment.on_hold", "SO-E2", OutboundStatus.EXCEPTION),
        ("order.shipment.cancelled", "SO-E2", OutboundStatus.CANCELLED)]


def test_subscription_through_the_api(make_shipbob_emulator, make_shipbob_provider, receiver):
    inbox = receiver()
    emulator = make_shipbob_emulator()
    provider = make_shipbob_provider(emulator)
    subscription = provider.create_webhook_subscription(inbox.url, ["order.shipped"], description="nearstock")
    assert subscription["secret"].startswith("whsec_")
    emulator.set_stock(int(VENLO), "TEE-BLK-M", 5)
    provider.create_outbound(outbound("SO-S"))
    emulator.advance(3 * HOUR)
    assert emulator.flush_webhooks(5)
    (headers, body), = inbox.requests
    ours = make_shipbob_provider(emulator, credentials={"webhook_secret": subscription["secret"]})
    assert ours.parse_webhook(headers, body).outbound.status is OutboundStatus.SHIPPED
    with pytest.raises(PermanentError, match="signature"):
        provider.parse_webhook(headers, body)  # the seeded secret is not this subscription's
    old_api = make_shipbob_provider(emulator, credentials={"api_version": "2025-07"})
    with pytest.raises(PermanentError) as err:
        old_api.create_webhook_subscription(inbox.url, ["order.shipment.tracking.updated"])
    assert err.value.field == "topics"


# -- protocol strictness, errors and limits -------------------------------------------------------

def test_emulator_is_strict(shipbob_emulator):
    url, auth = shipbob_emulator.url, {"Authorization": f"Bearer {SHIPBOB_TOKEN}"}
    assert requests.get(f"{url}/2026-07/fulfillment-center", timeout=5).status_code == 401
    assert requests.get(f"{url}/2026-07/fulfillment-center", headers={"Authorization": "Bearer nope"},
                        timeout=5).status_code == 401
    assert requests.get(f"{url}/fulfillment-center", headers=auth, timeout=5).status_code == 404
    assert requests.get(f"{url}/1.0/fulfillment-center", headers=auth, timeout=5).status_code == 404
    order = {"reference_id": "X", "shipping_method": "Standard", "type": "DTC", "products": [],
             "recipient": {"name": "A", "address": {"address1": "a", "city": "b", "country": "NL"}}}
    response = requests.post(f"{url}/2026-07/order", json=order, headers=auth, timeout=5)
    assert response.status_code == 400 and "shipbob_channel_id" in response.json()
    response = requests.post(f"{url}/2026-07/order", json=order, timeout=5,
                             headers={**auth, "shipbob_channel_id": str(SHIPBOB_CHANNEL)})
    assert response.status_code == 400 and response.json() == {"products": ["The Products field is required."]}
    shipbob_emulator.set_stock(int(VENLO), "S", 3)
    order["products"] = [{"reference_id": "S", "name": "S", "quantity": 1}]
    for expected in (201, 422):
        response = requests.post(f"{url}/2026-07/order", json=order, timeout=5,
                                 headers={**auth, "shipbob_channel_id": str(SHIPBOB_CHANNEL)})
        assert response.status_code == expected
    assert response.json() == {"": ["Cannot insert order with existing ReferenceId"]}
    assert int(response.headers["x-remaining-calls"]) > 0


def test_auth_errors(shipbob_emulator, make_shipbob_provider):
    with pytest.raises(AuthError) as err:
        make_shipbob_provider(shipbob_emulator, credentials={"token": "revoked"}).list_warehouses()
    assert err.value.code == "unauthorized"
    for broken in ({"channel_id": ""}, {"token": ""}, {"channel_id": "main"}):
        with pytest.raises(AuthError) as err:  # refused when built, before any call
            make_shipbob_provider(shipbob_emulator, credentials=broken)
        assert err.value.code == "missing_credentials"
    with pytest.raises(AuthError) as err:
        make_shipbob_provider(shipbob_emulator, credentials={"channel_id": "999"}).get_outbound("X")
    assert err.value.code == "forbidden"  # another account's channel


def test_rate_limit_429_carries_retry_after(make_shipbob_emulator, make_shipbob_provider):
    emulator = make_shipbob_emulator(rate_limit_per_min=3, rate_window_s=60.0)
    provider = make_shipbob_provider(emulator)
    provider.limiter.set_rate(1000.0, 100.0)  # a misconfigured bucket: ShipBob's own limit answers
    for _ in range(3):
        provider.list_warehouses()
    with pytest.raises(RetryableError) as err:
        provider.list_warehouses()
    assert 55 <= err.value.retry_after <= 60 and len(emulator.violations) == 1


def test_faults_are_retryable(shipbob_emulator, shipbob_provider):
    shipbob_emulator.faults.set(1.0, ("429",))
    with pytest.raises(RetryableError) as err:
        shipbob_provider.list_warehouses()
    assert err.value.retry_after == 1.0
    shipbob_emulator.faults.set(1.0, ("500",))
    with pytest.raises(RetryableError) as err:
        shipbob_provider.list_warehouses()
    assert "500" in str(err.value)
    assert shipbob_emulator.violations == []


def test_timeout_is_retryable(shipbob_emulator, make_shipbob_provider):
    provider = make_shipbob_provider(shipbob_emulator, session=make_session(timeout=(1.0, 0.2)))
    shipbob_emulator.faults.slow_seconds = 0.6
    shipbob_emulator.faults.set(1.0, ("slow",))
    with pytest.raises(RetryableError):
        provider.list_warehouses()


def test_two_workers_share_the_rate_limit(make_shipbob_emulator, make_shipbob_provider):
    emulator = make_shipbob_emulator(rate_limit_per_min=150, rate_window_s=1.5)
    workers = [make_shipbob_provider(emulator, session=make_session()) for _ in range(2)]
    errors: list[Exception] = []

    def work(provider: ShipBobProvider) -> None:
        try:
            for _ in range(110):
                provider.list_warehouses()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and emulator.violations == []
    assert len(emulator.calls) == 220 and time.monotonic() - started > 1.5  # the bucket did throttle


def test_call_records_carry_no_secrets(shipbob_emulator, make_shipbob_provider):
    records = []
    provider = make_shipbob_provider(shipbob_emulator, on_call=records.append)
    shipbob_emulator.set_stock(int(VENLO), "TEE-BLK-M", 5)
    provider.create_outbound(outbound("SO-LOG"))
    dumped = json.dumps([r.__dict__ for r in records], default=str)
    assert SHIPBOB_TOKEN not in dumped and "Lovelace" not in dumped and "ada@example.com" not in dumped
    create = next(r for r in records if r.operation == "create_outbound" and r.status == 201)
    assert create.external_id == "SO-LOG" and create.system == "shipbob"


def test_unshared_buckets_would_overrun(make_shipbob_emulator, make_shipbob_provider):
    """The control for the test above: two accounts' worth of budget against one ShipBob limit."""
    emulator = make_shipbob_emulator(rate_limit_per_min=150, rate_window_s=1.5)
    workers = [make_shipbob_provider(emulator, account_key=key, session=make_session()) for key in ("a", "b")]
    refused: list[RetryableError] = []

    def work(provider: ShipBobProvider) -> None:
        for _ in range(90):
            try:
                provider.list_warehouses()
            except RetryableError as exc:
                refused.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Every refusal is a violation; most are waited out inside the call (connectors/quick_retry.py),
    # the rest reach the caller with ShipBob's wait.
    assert emulator.violations and len(refused) <= len(emulator.violations)
    assert all(exc.refused and exc.retry_after and exc.retry_after >= 1 for exc in refused)
