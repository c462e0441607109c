"""End to end: a shipment's notices through real `python -m jobs.worker` processes and a real SMTP
server (aiosmtpd on loopback), in the customer's language, with working tracking links.

Shipments are driven through ``integration.orders.shipments`` as the warehouse jobs do; the
notify queue is worked by worker subprocesses (their own app, database and Redis connections).
Where recovery needs time to pass (RQ retry backoff, stale claims), the clock is moved forward
instead of waiting: due retries are released and claims aged, as ``tests/e2e/test_crash.py`` does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from rq.job import Job
from sqlalchemy import select

from integration.domain.warehousing import (
    ExceptionReason,
    Line,
    Outbound,
    OutboundStatus,
    Package,
    TrackingEvent,
    TrackingStatus,
)
from integration.extensions import db, queues, redis
from integration.job_serializer import JobSerializer
from integration.models import OutboundOrder
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import send
from integration.orders import allocation, shipments
from jobs import notify
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock
from tests.test_notif_support import notif_app, proxy_get_from_link, smtp_server, worker_env  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Workers:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log  # a *.log in tmp_path: searched for personal data (tests/log_privacy.py)
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            with self.log.open("ab") as log:  # the child keeps its own descriptor
                self.procs.append(subprocess.Popen([sys.executable, "-m", "jobs.worker", "notify"], cwd=ROOT,
                                                   env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def kill(self, proc: subprocess.Popen) -> None:
        # The worker's RQ scheduler is a child process: it dies with it, as on a crashed machine.
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def workers(notif_app, tmp_path):  # noqa: F811
    w = Workers(worker_env(notif_app), tmp_path / "workers.log")
    yield w
    w.stop()


@pytest.fixture
def parcel(notif_app):  # noqa: F811
    shop = make_shop()
    shop.name, shop.email = "Acme Outdoor", "owner@acme.example"
    db.session.commit()
    warehouse = make_warehouse(shop, make_account(shop), "FRWH", "FR", name="Lyon",
                               transit_days={"FR": [1, 2], "*": [4, 8]})
    set_stock(shop, warehouse, "MUG", 10)
    order = make_order(shop, "o-2001", [("MUG", 1)], country="FR", email="claire@example.fr")
    order.locale, order.name = "fr-FR", "#2001"
    db.session.commit()
    [outbound_id] = allocation.allocate_order(order.id).outbound_ids
    outbound = db.session.get(OutboundOrder, outbound_id)
    outbound.status = "pushed"
    db.session.commit()
    result = Outbound(reference=outbound.reference, external_id="W1", status=OutboundStatus.SHIPPED,
                      packages=(Package("COL123", carrier="Colissimo", tracking_url="https://colis.example/COL123",
                                        lines=(Line("MUG", 1),), shipped_at=T0),))
    [shipment_id] = shipments.record_outbound_state(outbound.id, result)
    return shop, order, shipment_id


def track(shipment_id: int, status: TrackingStatus, hours: float, reason: ExceptionReason | None = None,
          description: str = "") -> None:
    shipments.record_tracking(shipment_id, [TrackingEvent("COL123", status, T0 + timedelta(hours=hours),
                                                          reason=reason, description=description or status.value,
                                                          location="Lyon")])


def wait_until(predicate, timeout: float = 60.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def statuses() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(n.kind, n.status) for n in db.session.execute(select(Notification).order_by(Notification.id)).scalars()]


def release_due_retries() -> int:
    """Time passes: every scheduled retry of the notify queue becomes due now."""
    registry = queues["notify"].scheduled_job_registry
    moved = 0
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=redis.client, serializer=JobSerializer)
        registry.remove(job)
        queues["notify"].enqueue_job(job)
        moved += 1
    return moved


def sent_kinds(inbox) -> list[str]:
    return [m["X-Nearstock-Notification"].split()[1] for m in inbox.messages]


def test_shipment_life_sends_exactly_four_notices_in_french_with_working_links(
        notif_app, smtp_server, workers, parcel):  # noqa: F811
    _shop, _order, shipment_id = parcel
    inbox = smtp_server.inbox
    workers.start(2)
    track(shipment_id, TrackingStatus.IN_TRANSIT, 3)
    assert inbox.wait_for(1)
    track(shipment_id, TrackingStatus.EXCEPTION, 30, ExceptionReason.CUSTOMS_DELAY, "Retenu en douane {{ 7*7 }}")
    assert inbox.wait_for(2)
    # A duplicate and a late event change nothing.
    track(shipment_id, TrackingStatus.EXCEPTION, 30, ExceptionReason.CUSTOMS_DELAY, "Retenu en douane {{ 7*7 }}")
    track(shipment_id, TrackingStatus.IN_TRANSIT, 3)
    track(shipment_id, TrackingStatus.OUT_FOR_DELIVERY, 70)
    assert inbox.wait_for(3)
    track(shipment_id, TrackingStatus.DELIVERED, 75)
    track(shipment_id, TrackingStatus.OUT_FOR_DELIVERY, 70)  # redelivered after "delivered"
    assert inbox.wait_for(4)
    time.sleep(1.0)  # anything extra would arrive now
    assert wait_until(lambda: all(s == "sent" for _k, s in statuses()))
    assert sent_kinds(inbox) == ["shipped", "exception", "out_for_delivery", "delivered"]
    assert len(inbox.messages) == 4
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == ["Votre commande #2001 est en route",
                        "Du nouveau sur votre commande #2001 : Retenu en douane",
                        "Votre commande #2001 est en cours de livraison",
                        "Votre commande #2001 a été livrée"]
    for message in inbox.messages:
        assert message["To"] == "claire@example.fr" and message["Content-Language"] == "fr"
        assert message["List-Unsubscribe"].startswith("<https://app.example/notifications/unsubscribe/")
        assert message["Message-ID"].startswith("<notice-")
    shipped_text = inbox.messages[0].get_body(("plain",)).get_content()
    assert "Colissimo" in shipped_text and "COL123" in shipped_text and "Lyon, France" in shipped_text
    assert "Livraison estimée : entre le 23 novembre 2026 et le 24 novembre 2026" in shipped_text
    # Every notice links to the tracking page; following it through the app proxy shows the timeline.
    client = notif_app.test_client()
    for message in inbox.messages:
        html = message.get_body(("html",)).get_content()
        link = re.search(r'href="(https://acme\.myshopify\.com/apps/nearstock/track\?t=[^"]+)"', html).group(1)
        link = link.replace("&amp;", "&")
        page = proxy_get_from_link(client, link)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("application/liquid")
        body = page.get_data(as_text=True)
        assert "Commande #2001" in body and "Livré" in body and "Retenu en douane" in body
        assert "En cours de livraison" in body and "Colissimo" in body and "Lyon, France" in body
        assert "{{" not in body and "{%" not in body  # carrier text "{{ 7*7 }}" neutralised
    delivered_html = inbox.messages[3].get_body(("html",)).get_content()
    assert "/notifications/feedback?t=" in delivered_html and "rating=5" in delivered_html


def test_smtp_outage_delays_but_loses_nothing(notif_app, smtp_server, workers, parcel):  # noqa: F811
    _shop, _order, shipment_id = parcel
    inbox = smtp_server.inbox
    smtp_server.stop()  # the server is down: connection refused
    workers.start(1)
    track(shipment_id, TrackingStatus.IN_TRANSIT, 3)
    assert wait_until(lambda: queues["notify"].scheduled_job_registry.count == 1)
    [(kind, status)] = statuses()
    assert (kind, status) == ("shipped", "queued")
    # Back, but answering 421 (too busy): still a temporary failure.
    smtp_server.start()
    inbox.mode = "421"
    track(shipment_id, TrackingStatus.EXCEPTION, 30, ExceptionReason.DELIVERY_DELAY)
    assert release_due_retries() == 1
    assert wait_until(lambda: queues["notify"].scheduled_job_registry.count == 2)
    assert inbox.attempts >= 2 and inbox.messages == []
    db.session.expire_all()
    errors = [n.last_error for n in db.session.execute(select(Notification).order_by(Notification.id)).scalars()]
    assert "Connection refused" in errors[0] or "421" in errors[0]
    assert all(e and "421" in e for e in errors[1:])
    inbox.mode = "ok"
    assert release_due_retries() == 2
    assert inbox.wait_for(2)
    track(shipment_id, TrackingStatus.DELIVERED, 75)
    assert inbox.wait_for(3)
    assert wait_until(lambda: all(s == "sent" for _k, s in statuses()))
    assert sorted(sent_kinds(inbox)) == ["delivered", "exception", "shipped"]
    db.session.expire_all()
    attempts = {n.kind: n.attempts for n in db.session.execute(select(Notification)).scalars()}
    assert attempts["shipped"] >= 3 and attempts["exception"] >= 2 and attempts["delivered"] == 1


def _recover_after_crash() -> None:
    """What production does after a worker died: RQ retries the abandoned job once its heartbeat
    is gone, and once the claim is older than CLAIM_TIMEOUT the sweeper re-examines the row."""
    later = time.time() + 3600
    queues["notify"].started_job_registry.cleanup(timestamp=later)
    db.session.execute(Notification.__table__.update().where(Notification.status == "sending")
                       .values(claimed_at=utcnow() - send.CLAIM_TIMEOUT - timedelta(minutes=1)))
    db.session.commit()
    notify.sweep()
    release_due_retries()


def test_worker_killed_mid_send_produces_no_duplicate(notif_app, smtp_server, workers, parcel):  # noqa: F811
    _shop, _order, shipment_id = parcel
    inbox = smtp_server.inbox
    inbox.stalled.set()  # the server takes the message, then stalls before answering DATA
    workers.start(1)
    track(shipment_id, TrackingStatus.IN_TRANSIT, 3)
    assert wait_until(inbox.in_data.is_set, 30)
    workers.kill(workers.procs[0])  # SIGKILL while waiting for the server's answer
    inbox.stalled.clear()  # the server finishes: it has the message
    assert inbox.wait_for(1)
    assert statuses() == [("shipped", "sending")]
    workers.start(1)
    _recover_after_crash()
    assert wait_until(lambda: statuses() == [("shipped", "sent")])
    time.sleep(1.0)
    assert len(inbox.messages) == 1  # not sent twice
    db.session.expire_all()
    row = db.session.execute(select(Notification)).scalar_one()
    assert row.error_kind == "unconfirmed" and row.attempts == 1


def test_worker_killed_before_data_sends_it_once_after_recovery(notif_app, smtp_server, workers, parcel):  # noqa: F811
    _shop, _order, shipment_id = parcel
    inbox = smtp_server.inbox
    inbox.stall_rcpt.set()  # the worker is stuck before DATA: the server never gets the message
    workers.start(1)
    track(shipment_id, TrackingStatus.IN_TRANSIT, 3)
    assert wait_until(inbox.in_rcpt.is_set, 30)
    workers.kill(workers.procs[0])
    inbox.stall_rcpt.clear()
    assert statuses() == [("shipped", "sending")]
    workers.start(1)
    _recover_after_crash()
    assert inbox.wait_for(1)
    assert wait_until(lambda: statuses() == [("shipped", "sent")])
    time.sleep(1.0)
    assert len(inbox.messages) == 1
