"""The warehouse emulators' control server: a plain HTML page and a small JSON API to watch each demo
warehouse and move it along — advance or run its clock, and move one parcel on now: picked,
shipped, delivered, or a carrier exception (customs delay, failed attempt, lost…).

    GET  /                      the control page
    GET  /api/state             every warehouse in turn: clock, stock, parcels and their events
    POST /api/<vendor>/clock    {"advance": seconds} or {"speed": simulated seconds per second}
    POST /api/<vendor>/parcels  {"reference": …, "action": "pick"|"ship"|"deliver"|"exception", "kind": …}

It is its own server, apart from the vendor APIs, so none of this exists on the surface the
connectors talk to. It answers only a browser on this machine: another address, a relayed request
(``Forwarded``, ``X-Forwarded-For``, ``X-Real-IP``) or a Host that is not loopback (DNS rebinding)
gets 403, and a change must be a JSON POST, which a page on another origin cannot send without
a CORS preflight this server never grants.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from integration.views.local_client import from_this_machine
from sandbox.warehouses.sim import EXCEPTIONS, SimError, SimOrder
from sandbox.warehouses.sim_returns import GRADES, SimReturn

log = logging.getLogger("sandbox.warehouses.control")

PAGE = Path(__file__).with_name("control.html")
MAX_ADVANCE = 30 * 86400  # one click moves a warehouse at most a month on
MAX_SPEED = 86400.0  # a day per second
MAX_PARCELS = 100  # the newest parcels per warehouse shown
MAX_REFERENCE = 100
# action -> the statuses a parcel is stepped through until it leaves them
ACTIONS = {"pick": ("received",), "ship": ("received", "picking"), "deliver": ("received", "picking", "shipped")}
MAX_STEPS = 20  # a parcel's whole life is a dozen steps at most
RETURN_ACTIONS = ("receive", "inspect")


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds") if at else None


def _parcel(order: SimOrder) -> dict:
    return {"reference": order.reference, "vendor_id": order.external_id, "warehouse": order.warehouse,
            "status": order.status, "carrier": order.carrier, "tracking_number": order.tracking_number,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in order.lines], "created_at": _iso(order.created_at),
            "next_at": _iso(order.next_at), "events": [{"code": e.code, "at": _iso(e.at)} for e in order.events]}


def _rma(rma: SimReturn) -> dict:
    return {"reference": rma.merchant_reference, "vendor_id": rma.external_id, "warehouse": rma.warehouse,
            "status": rma.status, "lines": [{"sku": sku, "quantity": qty} for sku, qty in rma.lines],
            "graded": [{"sku": sku, "quantity": units, "grade": grade} for sku, units, grade in rma.graded],
            "created_at": _iso(rma.created_at), "next_at": _iso(rma.next_at)}


def _vendor_state(vendor) -> dict:
    sim = vendor.sim
    with sim.lock:
        orders = sorted(sim.orders.values(), key=lambda o: o.created_at, reverse=True)[:MAX_PARCELS]
        return {
            "label": vendor.label, "clock": _iso(sim.now), "clock_speed": sim.clock_speed,
            "account": {"endpoint": vendor.endpoint, "credentials": vendor.credentials},
            "warehouses": [{"code": code, "country": country} for code, country in sim.warehouses.items()],
            "stock": [{"warehouse": wh, "sku": sku, "on_hand": st.on_hand, "reserved": st.reserved,
                       "available": st.available, "inbound": st.inbound}
                      for (wh, sku), st in sorted(sim.stock.items())],
            "parcels": [_parcel(o) for o in orders],
            "returns": [_rma(r) for r in sorted(sim.returns.values(), key=lambda r: r.created_at,
                                                reverse=True)[:MAX_PARCELS]],
        }


def _number(body: dict, key: str, low: float, high: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ControlError(400, f"{key} must be a number from {low:g} to {high:g}")
    return float(value)


def move_parcel(sim, reference: str, action: str, kind: str | None = None) -> SimOrder:
    """Steps the parcel until ``action`` is done; ``exception`` raises ``kind`` now."""
    with sim.lock:
        if action == "exception":
            if kind not in EXCEPTIONS:
                raise ControlError(400, f"kind must be one of {', '.join(EXCEPTIONS)}")
            return sim.raise_exception(reference, kind)
        order = sim.get_order(reference)
        if order.status not in ACTIONS[action]:
            raise ControlError(409, f"parcel {reference} is already {order.status}")
        for _ in range(MAX_STEPS):
            if order.status not in ACTIONS[action]:
                break
            sim.step_order(reference)
        return order


def create_control_app(sandbox) -> Flask:
    """The control server of ``sandbox`` (a :class:`sandbox.warehouses.demo.WarehouseSandbox`)."""
    app = Flask("warehouse-control")
    app.config["MAX_CONTENT_LENGTH"] = 4096

    def vendor_of(name: str):
        vendor = sandbox.vendors.get(name)
        if vendor is None:
            raise ControlError(404, f"no warehouse emulator {name[:32]!r}")
        return vendor

    def json_body() -> dict:
        if request.mimetype != "application/json":
            raise ControlError(415, "send JSON (Content-Type: application/json)")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return body

    @app.before_request
    def this_machine_only():
        if not from_this_machine():
            log.warning("warehouse_control.refused path=%s", request.path)
            raise ControlError(403, "the warehouse control answers a browser on this machine only")
        return None

    @app.errorhandler(ControlError)
    def control_error(exc: ControlError):
        return jsonify(error=exc.message), exc.status

    @app.errorhandler(SimError)
    def sim_error(exc: SimError):
        status = 404 if exc.code in ("unknown_order", "unknown_return") else 409
        return jsonify(error=str(exc)), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=exc.description), exc.code

    @app.get("/")
    def page():
        response = Response(PAGE.read_text(encoding="utf-8"), mimetype="text/html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/api/state")
    def state():
        return jsonify(vendors=[{"name": name, **_vendor_state(v)} for name, v in sandbox.vendors.items()],
                       exceptions=list(EXCEPTIONS))

    @app.post("/api/<vendor_name>/clock")
    def clock(vendor_name: str):
        vendor, body = vendor_of(vendor_name), json_body()
        if "advance" in body:
            seconds = _number(body, "advance", 1, MAX_ADVANCE)
            vendor.sim.advance(seconds)
            log.info("warehouse_control.advanced vendor=%s seconds=%d", vendor.name, seconds)
        elif "speed" in body:
            speed = _number(body, "speed", 0, MAX_SPEED)
            if speed:
                vendor.sim.run_clock(speed)
            else:
                vendor.sim.stop_clock()
        else:
            raise ControlError(400, "give advance (seconds) or speed (simulated seconds per second)")
        return jsonify(_vendor_state(vendor))

    @app.post("/api/<vendor_name>/parcels")
    def parcel(vendor_name: str):
        vendor, body = vendor_of(vendor_name), json_body()
        reference, action = body.get("reference"), body.get("action")
        if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE:
            raise ControlError(400, f"reference must be a parcel's reference (1 to {MAX_REFERENCE} characters)")
        if action not in (*ACTIONS, "exception"):
            raise ControlError(400, f"action must be one of {', '.join((*ACTIONS, 'exception'))}")
        kind = body.get("kind")
        order = move_parcel(vendor.sim, reference, action, kind if isinstance(kind, str) else None)
        log.info("warehouse_control.moved vendor=%s action=%s status=%s", vendor.name, action, order.status)
        return jsonify(parcel=_parcel(order))

    @app.post("/api/<vendor_name>/returns")
    def rma(vendor_name: str):
        """Receive a return's parcel now, or inspect it now with one ``grade`` for every unit."""
        vendor, body = vendor_of(vendor_name), json_body()
        reference, action, grade = body.get("reference"), body.get("action"), body.get("grade", "sellable")
        if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE:
            raise ControlError(400, f"reference must be a return's reference (1 to {MAX_REFERENCE} characters)")
        if action not in RETURN_ACTIONS:
            raise ControlError(400, f"action must be one of {', '.join(RETURN_ACTIONS)}")
        if grade not in GRADES:
            raise ControlError(400, f"grade must be one of {', '.join(GRADES)}")
        if action == "receive":
            returned = vendor.sim.receive_return(reference)
        else:
            returned = vendor.sim.inspect_return(reference, grade)
        log.info("warehouse_control.return vendor=%s action=%s status=%s", vendor.name, action, returned.status)
        return jsonify(rma=_rma(returned))

    return app
