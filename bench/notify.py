"""Notification throughput: outbox rows to a real SMTP server through real RQ workers.

An aiosmtpd server (its own process, loopback) receives everything. In the same run:

* bare: one smtplib connection sending the same rendered messages in a loop (the ceiling of the
  SMTP server and the machine);
* pipeline: N ``notifications`` rows created in one transaction (``enqueue_notice``), their send
  jobs (``notifications.BATCH_SIZE`` notices each, as production enqueues them) worked by
  ``python -m jobs.worker notify`` processes: each job claims its notices in one statement, then
  renders (Jinja2 + Babel + css-inline) and sends each, and marks them sent ten at a time.
  p50/p99 are per notice, from the row's creation to its "sent".

The two alternate in rounds of 1,250 notices (bare, pipeline, bare, ...; four in a full run, one
with --quick), so both see the same machine: on a shared host its speed drifts by tens of percent
within a minute. Both start after the warm-up notices.

Then each row is checked: every notice sent exactly once (server count == rows == N).
Render p99 is measured separately, in-process, over every kind and language.

Both lines also give the CPU time per message of the processes taking part (this one, the SMTP
server, the workers; not Redis or PostgreSQL): per_s depends on whatever else the machine runs,
CPU per message much less, and per_s cannot exceed cpus / cpu_ms_per_msg.

Target (issue 7): ratio >= 0.5 x bare per_s.

    python bench/notify.py [--quick] [--database-url postgresql://...] [--workers 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from bench.common import bench_env, embedded_redis_url, figures, free_port, prepare_database

ROOT = Path(__file__).resolve().parents[1]
WARM = 160
# Bare and pipeline alternate in rounds of at most this many notices. A round is one burst of
# notices: its ramp-up and its tail (the last job's notices, sent one after the other while the
# other workers idle) cost ~0.2 s whatever its size, so rounds stay long enough to make that small.
ROUND_SIZE = 1250


def _smtp_server(port: int, counter, ready) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
                n = counter.value
            return f"250 2.0.0 Ok: queued as B{n}"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()

    async def forever():
        while True:
            await asyncio.sleep(3600)

    try:
        asyncio.run(forever())
    finally:
        controller.stop()


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def render_p99(app) -> float:
    from integration.notices import render as rendering
    from integration.notices import samples
    from integration.notices.outbox import KINDS

    timings = []
    with app.app_context():
        for _ in range(3):
            for kind in KINDS:
                for variant in samples.variants(kind):
                    for locale in rendering.SUPPORTED_LOCALES:
                        started = time.perf_counter()
                        rendering.render(kind, samples.sample_context(kind, variant), locale=locale,
                                         branding=rendering.SAMPLE_BRANDING, links=samples.SAMPLE_LINKS)
                        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings[len(timings) // 3:], 0.99)  # first round warms the caches


def bare_loop(port: int, messages: list) -> float:
    """Seconds one smtplib connection takes to send ``messages``."""
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    conn.ehlo()
    started = time.perf_counter()
    for sender, recipient, data in messages:
        conn.sendmail(sender, [recipient], data)
    elapsed = time.perf_counter() - started
    conn.quit()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--trace", action="store_true", help="workers log each notice's timings (INFO)")
    args = parser.parse_args()
    total = 600 if args.quick else 5000

    from integration.config import Config

    port = free_port()
    counter, ready = mp.Value("i", 0), mp.Event()
    server = mp.Process(target=_smtp_server, args=(port, counter, ready), daemon=True)
    server.start()
    ready.wait(10)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        env = bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, "bench")
        env.update(SMTP_URL=f"smtp://127.0.0.1:{port}?timeout=30", APP_URL="https://app.example",
                   SECRET_KEY=secrets.token_urlsafe(32))
        config = Config.from_env(env)
        prepare_database(config)
        from integration import create_app

        app = create_app(config)
        rp99 = render_p99(app)
        worker_log = {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"} if args.trace else {}
        try:
            with app.app_context():
                shop_id, sample = _setup(config)
            procs = [subprocess.Popen([sys.executable, "-m", "jobs.worker", "notify", "--name", f"bench-notify-{i}"],
                                      cwd=ROOT, env={**os.environ, **env, **worker_log}) for i in range(args.workers)]
            from integration.extensions import db

            roles = {"workers": [p.pid for p in procs], "smtp_server": [server.pid], "bench": [os.getpid()]}
            bare_s = bare_cpu = elapsed = 0.0
            bare_count = received = 0
            cpu = dict.fromkeys(roles, 0.0)
            with app.app_context():
                _create(shop_id, 0, WARM)  # warm-up: every worker imports, connects, renders each language
                db.session.commit()
                _wait_sent(WARM, 120)
                # Bare and pipeline alternate in rounds, so both see the same machine (its speed
                # drifts by tens of percent within a minute on a shared host).
                done = 0
                while done < total:
                    count = min(ROUND_SIZE, total - done)
                    before, mark = counter.value, _cpu_seconds([os.getpid(), server.pid])
                    bare_s += bare_loop(port, [sample] * count)
                    bare_cpu += _cpu_seconds([os.getpid(), server.pid]) - mark
                    bare_count += counter.value - before

                    before = counter.value
                    _create(shop_id, WARM + done, count)  # the outbox rows, in one transaction
                    marks = {role: _cpu_seconds(pids) for role, pids in roles.items()}
                    started = time.perf_counter()
                    db.session.commit()  # ... their send jobs are enqueued now
                    _wait_received(counter, before + count, 600)  # cheap: no database polling meanwhile
                    sent = _wait_sent(WARM + done + count, 600)
                    elapsed += time.perf_counter() - started
                    for role, pids in roles.items():
                        cpu[role] += _cpu_seconds(pids) - marks[role]
                    received += counter.value - before
                    done += count
                rss = sum(psutil.Process(p.pid).memory_info().rss for p in procs) / 2**20
                latencies, failed = _latencies(WARM)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
            server.terminate()
    per_s = total / elapsed
    bare_per_s = total / bare_s
    rounds = -(-total // ROUND_SIZE)
    errors = abs(received - total) + (total + WARM - sent) + failed + abs(bare_count - total)
    # CPU per message of everything taking part (this process, the SMTP server, the workers; the
    # embedded Redis is not counted in either): on a busy machine per_s moves with the neighbours,
    # this much less.
    print(f"bare:     per_s={bare_per_s:.1f} (one smtplib connection, {total} messages in {rounds} rounds) "
          f"cpu_ms_per_msg={bare_cpu / total * 1000:.2f}")
    print(f"pipeline: per_s={per_s:.1f} workers={args.workers} sent={sent - WARM} received={received} "
          f"cpu_ms_per_msg={sum(cpu.values()) / total * 1000:.2f} cpus={os.cpu_count()} "
          f"({', '.join(f'{role} {seconds / total * 1000:.2f}' for role, seconds in cpu.items())})")
    print(f"render:   p99_ms={rp99:.2f} (every kind x variant x language, in-process)")
    print(f"database={config.database_url.split(':')[0]} target: ratio>=0.5")
    print(figures(per_s=per_s, p50_ms=statistics.median(latencies), p99_ms=percentile(latencies, 0.99),
                  ratio=per_s / bare_per_s, rss_mb=rss, errors=errors))


def _setup(config):
    from integration.extensions import db
    from integration.models import Shop
    from integration.models.notification import Notification
    from integration.notices import compose
    from integration.notices import outbox as notifications

    shop = Shop(domain="bench.myshopify.com", name="Bench Shop", email="owner@bench.example", status="installed")
    db.session.add(shop)
    db.session.commit()
    notifications.update_settings(shop.id, {"send_rate_per_minute": 1_000_000})
    db.session.commit()
    # One real rendered notice: the bare loop sends the same bytes the pipeline does.
    n = Notification(id=10**9, shop_id=shop.id, kind="shipped", subject="sample", recipient="c@bench.example",
                     locale="de", context=_context(0))
    message = compose.build_message(n, shop)
    return shop.id, (message.sender, message.recipients[0], message.data)


def _context(i: int) -> dict:
    from integration.notices.samples import sample_context

    return {**sample_context("shipped"), "order_name": f"#{10000 + i}"}


def _create(shop_id: int, start: int, count: int) -> None:
    from integration.notices.outbox import enqueue_notice

    locales = ("de", "fr", "en", "ja", "es", "it", "nl", "zh-CN")
    for i in range(start, start + count):
        enqueue_notice(shop_id, "shipped", f"shipment:{i}", f"c{i}@bench.example", locale=locales[i % len(locales)],
                       context=_context(i))


def _wait_received(counter, expected: int, timeout: float) -> None:
    """Until the SMTP server has ``expected`` messages. Polling the database for the whole round
    would load it (a COUNT every few ms) and slow the very pipeline being measured."""
    deadline = time.monotonic() + timeout
    while counter.value < expected and time.monotonic() < deadline:
        time.sleep(0.002)


def _wait_sent(expected: int, timeout: float) -> int:
    from sqlalchemy import func, select

    from integration.extensions import db
    from integration.models.notification import Notification

    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        db.session.rollback()
        sent = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.status.in_(("sent", "failed", "skipped"))))
        if sent >= expected:
            break
        time.sleep(0.005)  # the last marks follow the last message closely: keep the overshoot small
    return sent


def _latencies(skip: int) -> tuple[list[float], int]:
    from sqlalchemy import select

    from integration.extensions import db
    from integration.models.notification import Notification

    rows = db.session.execute(select(Notification).order_by(Notification.id).offset(skip)).scalars().all()
    latencies = [(n.sent_at - n.created_at).total_seconds() * 1000 for n in rows if n.sent_at]
    return latencies or [0.0], sum(1 for n in rows if n.status != "sent")


if __name__ == "__main__":
    main()
