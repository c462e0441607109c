"""The warehouse emulators as `make run` and `python -m sandbox.warehouses` start them: each vendor
answers our real connector with its demo account, and the control server moves a parcel through
its life (picked, shipped, delivered, a carrier exception) so that our connector then sees it.
The control server answers this machine only, and exists nowhere on the vendors' API surface."""

from __future__ import annotations

import itertools
import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from connectors.warehouses import registry
from integration.domain.orders import Address
from integration.domain.warehousing import (
    ExceptionReason,
    Line,
    OutboundRequest,
    OutboundStatus,
    ReturnRequest,
    ReturnState,
    TrackingStatus,
)
from sandbox.warehouses.control import create_control_app
from sandbox.warehouses.demo import GOODCANG_STOCK, SHIPBOB_STOCK, WINIT_STOCK, WarehouseSandbox
from sandbox.warehouses.sim import EXCEPTIONS, STEP_GAP, SimError, WarehouseSim

ROOT = Path(__file__).resolve().parents[2]
BERLIN = Address(name="Erika Mustermann", address1="Hauptstrasse 5", city="Berlin", zip="10115", country_code="DE",
                 phone="+49301234567")
CHICAGO = Address(name="Sam Rivera", address1="233 S Wacker Dr", city="Chicago", province_code="IL", zip="60606",
                  country_code="US", phone="+13125550100")
# vendor -> (a warehouse of its demo account, an address it serves)
SHIP_FROM = {"winit": ("DE0001", BERLIN), "goodcang": ("DE", BERLIN), "shipbob": ("10", CHICAGO)}
COUNTRIES = {"winit": {"DE", "FR"}, "goodcang": {"DE", "FR"}, "shipbob": {"US"}}


def connector(name: str, account: dict, redis_conn):
    provider = registry.build(name, account["credentials"], redis=redis_conn, account_key=f"demo-{name}",
                              endpoint=account["endpoint"])
    provider.limiter.set_rate(50.0, 50.0)  # the test's few calls, without waiting on production budgets
    return provider


def outbound(name: str, reference: str, sku: str = "HOODIE-S") -> OutboundRequest:
    warehouse, address = SHIP_FROM[name]
    return OutboundRequest(reference=reference, warehouse_code=warehouse, ship_to=address, lines=(Line(sku, 1),),
                           email="erika@example.com", order_name="#1001")


@pytest.fixture
def sandbox():
    started = WarehouseSandbox(clock_speed=0).start()
    yield started
    started.stop()


def control(sandbox, vendor: str, what: str, body: dict) -> requests.Response:
    return requests.post(f"{sandbox.control_url}api/{vendor}/{what}", json=body, timeout=10)


# -- python -m sandbox.warehouses ----------------------------------------------------------------

def test_main_serves_every_vendor_to_our_connectors_with_the_demo_accounts(redis_conn, tmp_path):
    log = tmp_path / "warehouses.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sandbox.warehouses", "--port", "0", "--clock-speed", "0"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline, settings = time.monotonic() + 30, None
        while settings is None and time.monotonic() < deadline and proc.poll() is None:
            for line in log.read_text().splitlines():
                if "export WAREHOUSE_SANDBOX=" in line:
                    settings = json.loads(shlex.split(line.split("export ", 1)[1])[0].split("=", 1)[1])
            time.sleep(0.1)
        output = log.read_text()
        assert settings is not None, output
        assert set(settings["accounts"]) == {"winit", "goodcang", "shipbob"}
        for name, account in settings["accounts"].items():
            assert account["endpoint"].startswith("http://127.0.0.1:")
            assert all(value in output for value in account["credentials"].values())  # printed for the user
            provider = connector(name, account, redis_conn)
            sites = provider.list_warehouses()
            assert {s.country_code for s in sites} == COUNTRIES[name], name
            stock = {(r.warehouse_code, r.sku): r.available for r in provider.get_inventory()}
            assert stock[(SHIP_FROM[name][0], "HOODIE-S")] > 0, name
        page = requests.get(settings["control_url"], timeout=10)
        assert page.status_code == 200 and "Warehouse emulators" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_demo_stock_sits_in_germany_france_and_the_us(sandbox):
    for name, stock in (("winit", WINIT_STOCK), ("goodcang", GOODCANG_STOCK)):
        assert {country for country, _ in stock.values()} == {"DE", "FR"}
        assert set(sandbox.vendors[name].sim.warehouses.values()) == {"DE", "FR"}
    assert set(sandbox.vendors["shipbob"].sim.warehouses.values()) == {"US"} and set(SHIPBOB_STOCK) == {10, 22}
    for vendor in sandbox.vendors.values():
        assert {sku for _, sku in vendor.sim.stock} == {"HOODIE-S", "HOODIE-M", "BOTTLE-1L"}


# -- the control API, seen through our connectors ------------------------------------------------

@pytest.mark.parametrize("name", ["winit", "goodcang", "shipbob"])
def test_control_moves_a_parcel_to_shipped_and_delivered_and_the_connector_sees_it(sandbox, redis_conn, name):
    provider = connector(name, sandbox.accounts()[name], redis_conn)
    reference = f"NS-DEMO-{name}-1"
    provider.create_outbound(outbound(name, reference))
    assert provider.get_outbound(reference).status in (OutboundStatus.RECEIVED, OutboundStatus.PICKING)

    r = control(sandbox, name, "parcels", {"reference": reference, "action": "pick"})
    assert r.status_code == 200 and r.json()["parcel"]["status"] == "picking"
    r = control(sandbox, name, "parcels", {"reference": reference, "action": "ship"})
    assert r.status_code == 200 and r.json()["parcel"]["status"] == "shipped"
    tracking = r.json()["parcel"]["tracking_number"]
    shipped = provider.get_outbound(reference)
    assert shipped.status is OutboundStatus.SHIPPED
    assert [p.tracking_number for p in shipped.packages] == [tracking]

    r = control(sandbox, name, "parcels", {"reference": reference, "action": "deliver"})
    assert r.status_code == 200 and r.json()["parcel"]["status"] == "delivered"
    events = provider.tracking_events(reference)
    assert events[-1].status is TrackingStatus.DELIVERED
    assert all(e.tracking_number == tracking for e in events if e.status is not TrackingStatus.PENDING)

    again = control(sandbox, name, "parcels", {"reference": reference, "action": "deliver"})
    assert again.status_code == 409 and "delivered" in again.json()["error"]


@pytest.mark.parametrize("name", ["winit", "goodcang", "shipbob"])
def test_control_raises_a_carrier_exception_the_connector_reads(sandbox, redis_conn, name):
    provider = connector(name, sandbox.accounts()[name], redis_conn)
    provider.create_outbound(outbound(name, f"NS-EXC-{name}-1"))
    provider.create_outbound(outbound(name, f"NS-EXC-{name}-2", "HOODIE-M"))

    # Still in the building: the exception ships it first, then the carrier reports it.
    r = control(sandbox, name, "parcels", {"reference": f"NS-EXC-{name}-1", "action": "exception",
                                           "kind": "customs_delay"})
    assert r.status_code == 200 and r.json()["parcel"]["events"][-1]["code"] == "customs_delay"
    reasons = [e.reason for e in provider.tracking_events(f"NS-EXC-{name}-1") if e.reason]
    assert reasons == [ExceptionReason.CUSTOMS_DELAY]
    r = control(sandbox, name, "parcels", {"reference": f"NS-EXC-{name}-1", "action": "deliver"})
    assert r.json()["parcel"]["status"] == "delivered"  # a delay, not the end of the journey

    control(sandbox, name, "parcels", {"reference": f"NS-EXC-{name}-2", "action": "ship"})
    r = control(sandbox, name, "parcels", {"reference": f"NS-EXC-{name}-2", "action": "exception", "kind": "lost"})
    assert r.status_code == 200 and r.json()["parcel"]["status"] == "exception"
    events = provider.tracking_events(f"NS-EXC-{name}-2")
    assert events[-1].status is TrackingStatus.EXCEPTION and events[-1].reason is ExceptionReason.LOST
    r = control(sandbox, name, "parcels", {"reference": f"NS-EXC-{name}-2", "action": "deliver"})
    assert r.status_code == 409


@pytest.mark.parametrize("name", ["winit", "goodcang", "shipbob"])
def test_control_receives_and_grades_a_return_the_connector_reads(sandbox, redis_conn, name):
    provider = connector(name, sandbox.accounts()[name], redis_conn)
    provider.limiter.set_rate(type(provider).rate_per_second, type(provider).burst)  # a dozen calls: the real budget
    reference = f"NS-RMA-{name}"
    provider.create_outbound(outbound(name, f"{reference}-ORD"))
    control(sandbox, name, "parcels", {"reference": f"{reference}-ORD", "action": "deliver"})
    rma = provider.create_return(ReturnRequest(reference, f"{reference}-ORD", (Line("HOODIE-S", 1),)))
    assert rma.address is not None
    r = control(sandbox, name, "returns", {"reference": reference, "action": "receive"})
    assert r.status_code == 200 and r.json()["rma"]["status"] == "received"
    assert provider.get_return(reference, rma.external_id).state is ReturnState.RECEIVED
    r = control(sandbox, name, "returns", {"reference": reference, "action": "inspect", "grade": "unsellable"})
    assert r.json()["rma"]["graded"] == [{"sku": "HOODIE-S", "quantity": 1, "grade": "unsellable"}]
    inspected = provider.get_return(reference, rma.external_id)
    assert inspected.state is ReturnState.INSPECTED and [line.sellable for line in inspected.lines] == [False]
    assert control(sandbox, name, "returns", {"reference": reference, "action": "receive"}).status_code == 409
    state = requests.get(f"{sandbox.control_url}api/state", timeout=10).json()
    (shown,) = next(v for v in state["vendors"] if v["name"] == name)["returns"]
    assert (shown["reference"], shown["status"]) == (reference, "inspected")


def test_control_advances_and_runs_a_warehouse_clock(sandbox, redis_conn):
    provider = connector("winit", sandbox.accounts()["winit"], redis_conn)
    provider.create_outbound(outbound("winit", "NS-CLOCK-1"))
    sim = sandbox.vendors["winit"].sim
    before = sim.now
    r = control(sandbox, "winit", "clock", {"advance": 2 * 3600})
    assert r.status_code == 200 and sim.now == pytest.approx(before + 7200)
    assert provider.get_outbound("NS-CLOCK-1").status is OutboundStatus.SHIPPED  # picked at +30 min, out at +90
    assert sandbox.vendors["goodcang"].sim.now < sim.now  # each warehouse has its own clock

    assert control(sandbox, "winit", "clock", {"speed": 3600}).json()["clock_speed"] == 3600
    time.sleep(0.6)
    assert sim.now > before + 7200 + 1000
    assert control(sandbox, "winit", "clock", {"speed": 0}).json()["clock_speed"] == 0
    stopped = sim.now
    time.sleep(0.4)
    assert sim.now == stopped


def test_control_state_lists_each_warehouse(sandbox, redis_conn):
    provider = connector("shipbob", sandbox.accounts()["shipbob"], redis_conn)
    provider.create_outbound(outbound("shipbob", "NS-STATE-1", "HOODIE-M"))
    state = requests.get(f"{sandbox.control_url}api/state", timeout=10).json()
    assert [v["name"] for v in state["vendors"]] == ["winit", "goodcang", "shipbob"]
    shipbob = state["vendors"][2]
    assert shipbob["account"] == sandbox.accounts()["shipbob"]
    assert [p["reference"] for p in shipbob["parcels"]] == ["NS-STATE-1"]
    assert {"warehouse": "10", "sku": "HOODIE-M", "on_hand": 40, "reserved": 1, "available": 39,
            "inbound": 0} in shipbob["stock"]
    assert set(state["exceptions"]) == set(EXCEPTIONS)


@pytest.mark.parametrize(("path", "body", "status"), [
    ("api/winit/parcels", {"reference": "NOPE", "action": "ship"}, 404),
    ("api/winit/parcels", {"reference": "", "action": "ship"}, 400),
    ("api/winit/parcels", {"reference": "x" * 101, "action": "ship"}, 400),
    ("api/winit/parcels", {"reference": "NS-1", "action": "explode"}, 400),
    ("api/winit/parcels", {"reference": "NS-1", "action": "exception", "kind": "meteor"}, 400),
    ("api/winit/parcels", ["not", "an", "object"], 400),
    ("api/winit/returns", {"reference": "NOPE", "action": "receive"}, 404),
    ("api/winit/returns", {"reference": "NS-1", "action": "restock"}, 400),
    ("api/winit/returns", {"reference": "NS-1", "action": "inspect", "grade": "mint"}, 400),
    ("api/winit/returns", {"reference": "", "action": "inspect"}, 400),
    ("api/winit/clock", {"advance": -5}, 400),
    ("api/winit/clock", {"advance": 10 ** 12}, 400),
    ("api/winit/clock", {"advance": True}, 400),
    ("api/winit/clock", {"speed": "fast"}, 400),
    ("api/winit/clock", {}, 400),
    ("api/fedex/clock", {"advance": 60}, 404),
    ("api/state", {}, 405),
])
def test_control_refuses_bad_requests_with_a_4xx(sandbox, path, body, status):
    r = requests.post(sandbox.control_url + path, json=body, timeout=10)
    assert r.status_code == status and "error" in r.json()


def test_control_changes_must_be_json(sandbox):
    r = requests.post(f"{sandbox.control_url}api/winit/clock", data="advance=60",
                      headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 415
    r = requests.post(f"{sandbox.control_url}api/winit/clock", data="x" * 10000,
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413


def test_control_answers_this_machine_only(sandbox, caplog):
    client = create_control_app(sandbox).test_client()
    now = sandbox.vendors["winit"].sim.now
    refused = [
        client.get("/api/state", environ_base={"REMOTE_ADDR": "192.168.1.20"}),
        client.post("/api/winit/clock", json={"advance": 3600}, environ_base={"REMOTE_ADDR": "10.0.0.7"}),
        client.get("/", environ_base={"REMOTE_ADDR": "2001:db8::1"}),
        client.get("/api/state", headers={"X-Forwarded-For": "203.0.113.9"}),  # a tunnel from loopback
        client.get("/api/state", headers={"Forwarded": "for=203.0.113.9"}),
        client.post("/api/winit/clock", json={"advance": 3600}, headers={"Host": "attacker.example:8010"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert sandbox.vendors["winit"].sim.now == now
    assert "warehouse_control.refused" in caplog.text
    assert client.get("/api/state").status_code == 200  # the test client's 127.0.0.1
    assert client.get("/api/state", environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200


def test_control_endpoints_are_not_on_the_vendor_api_surface(sandbox):
    accounts = sandbox.accounts()
    base = {name: account["endpoint"].split("/", 3)[:3] for name, account in accounts.items()}
    for name, parts in base.items():
        root = "/".join(parts)
        assert root + "/" != sandbox.control_url
        for path in ("/", "/api/state", "/api/winit/clock"):
            r = requests.post(root + path, json={"advance": 60}, timeout=10)
            assert r.status_code in (401, 404, 405), (name, path, r.status_code)
            assert "clock" not in r.text and "parcels" not in r.text


# -- the sim's one-parcel moves ------------------------------------------------------------------

def test_sim_steps_one_parcel_now_and_refuses_finished_ones():
    sim = WarehouseSim({"DE0001": "DE"}, seed=1, start=1_000_000.0)
    sim.set_stock("DE0001", "SKU", 5)
    sim.create_order("A", "DE0001", [("SKU", 1)], {})
    sim.create_order("B", "DE0001", [("SKU", 1)], {})
    assert sim.step_order("A").status == "picking"
    assert sim.orders["B"].status == "received"  # nothing else moved
    assert sim.now == 1_000_000.0 + STEP_GAP  # just after the order came in, not the same instant
    sim.cancel_order("B")
    with pytest.raises(SimError) as exc:
        sim.step_order("B")
    assert exc.value.code == "not_moving"
    sim.raise_exception("A", "damaged")
    events = sim.orders["A"].events
    assert sim.orders["A"].status == "exception" and [e.code for e in events] == ["picked", "shipped", "damaged"]
    assert [b.at - a.at for a, b in itertools.pairwise(events)] == [STEP_GAP, STEP_GAP]
    with pytest.raises(SimError):
        sim.raise_exception("A", "lost")
    with pytest.raises(ValueError):
        sim.raise_exception("A", "meteor")


# -- make run ------------------------------------------------------------------------------------

def test_make_run_hands_the_emulators_to_the_app(tmp_path, capsys):
    from integration.config import Config
    from sandbox import launcher

    env: dict[str, str] = {}
    started = launcher._start_warehouse_sandbox(env)
    try:
        config = Config.from_env({"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path), **env})
        assert config.warehouse_sandbox == started.settings()
        assert started.control_url in capsys.readouterr().out
        assert requests.get(started.control_url, timeout=10).status_code == 200
        assert all(v.sim.clock_speed == 1.0 for v in started.vendors.values())  # the clocks follow real time
    finally:
        started.stop()
