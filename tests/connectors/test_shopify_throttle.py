"""The shared cost bucket, on a real Redis server."""

from __future__ import annotations

import threading
import time

import pytest
import redis as redis_lib
from graphql import parse

from connectors.errors import RetryableError
from connectors.shopify.client import load_document
from connectors.shopify.throttle import CostThrottle, ThrottleStatus, estimate_cost

SHOP = "acme.myshopify.com"


def status(maximum=100.0, current=100.0, rate=10.0) -> ThrottleStatus:
    return ThrottleStatus(maximum, current, rate)


@pytest.fixture
def throttle(redis_conn):
    return CostThrottle(redis_conn)


def test_a_new_shop_starts_with_a_full_conservative_bucket(throttle):
    reservation = throttle.reserve(SHOP, 10)
    assert reservation.wait == 0
    state = throttle.state(SHOP)
    assert state.maximum == 1000
    assert state.restore_rate == 50
    assert 989 <= state.available <= 991
    assert state.in_flight == 10


def test_reservations_queue_up_in_debt_and_wait_for_the_refill(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=10))
    first = throttle.reserve(SHOP, 60)
    second = throttle.reserve(SHOP, 60)
    third = throttle.reserve(SHOP, 60)
    assert first.wait == 0
    assert second.wait == pytest.approx(2.0, abs=0.05)  # 20 points short at 10/s
    assert third.wait == pytest.approx(8.0, abs=0.05)  # 80 points short


def test_a_cost_above_the_bucket_size_waits_for_a_full_bucket_not_for_ever(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=10))
    reservation = throttle.reserve(SHOP, 5000)
    assert reservation.cost == 100
    assert reservation.wait == 0


def test_shopify_figures_resync_the_mirror_minus_calls_still_in_flight(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    answered = throttle.reserve(SHOP, 50)
    throttle.reserve(SHOP, 30)  # another worker's call, not answered yet
    # Shopify refunded 45 of the 50 requested; someone else spent 15 behind our back.
    throttle.settle(answered, status(maximum=100, current=80, rate=0.001), actual_cost=5)
    state = throttle.state(SHOP)
    assert state.in_flight == 30
    assert state.available == pytest.approx(80 - 30, abs=0.5)


def test_the_actual_cost_is_refunded(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    reservation = throttle.reserve(SHOP, 50)
    throttle.settle(reservation, status(maximum=100, current=95, rate=0.001), actual_cost=5)
    assert throttle.state(SHOP).available == pytest.approx(95, abs=0.5)


def test_a_throttled_answer_costs_nothing_but_lowers_the_mirror(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    reservation = throttle.reserve(SHOP, 50)
    throttle.settle(reservation, status(maximum=100, current=20, rate=0.001), charged=False)
    assert throttle.state(SHOP).available == pytest.approx(20, abs=0.5)


def test_an_older_answer_arriving_late_does_not_give_points_back(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    first = throttle.reserve(SHOP, 10)
    second = throttle.reserve(SHOP, 10)
    # Shopify ran both; the second answer (80 left) arrives before the first one (90 left).
    throttle.settle(second, status(maximum=100, current=80, rate=0.001), actual_cost=10)
    throttle.settle(first, status(maximum=100, current=90, rate=0.001), actual_cost=10)
    assert throttle.state(SHOP).available <= 80.5


def test_release_gives_the_points_back(throttle):
    throttle.observe(SHOP, status(maximum=100, current=40, rate=10))
    reservation = throttle.reserve(SHOP, 30)
    throttle.release(reservation)
    state = throttle.state(SHOP)
    assert state.available == pytest.approx(40, abs=0.5)
    assert state.in_flight == 0


def test_an_unanswered_call_keeps_its_points_spent(throttle):
    throttle.observe(SHOP, status(maximum=100, current=40, rate=0.001))
    reservation = throttle.reserve(SHOP, 30)
    throttle.settle(reservation, None)  # timeout: Shopify may have charged it
    state = throttle.state(SHOP)
    assert state.available == pytest.approx(10, abs=0.5)
    assert state.in_flight == 0


def test_points_of_an_unanswered_call_come_back_when_shopify_shows_it_did_not_charge_them(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    lost = throttle.reserve(SHOP, 60)
    throttle.settle(lost, None)  # a 5xx: charged or not, we cannot tell yet
    assert throttle.state(SHOP).available == pytest.approx(40, abs=0.5)
    answered = throttle.reserve(SHOP, 10)
    # Shopify's bucket after the next call: only that call's 10 points are gone.
    throttle.settle(answered, status(maximum=100, current=90, rate=0.001), actual_cost=10)
    assert throttle.state(SHOP).available == pytest.approx(90, abs=0.5)


def test_doubtful_points_come_back_once_and_no_more(throttle):
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    spent = throttle.reserve(SHOP, 50)
    throttle.settle(spent, status(maximum=100, current=50, rate=0.001), actual_cost=50)
    lost = throttle.reserve(SHOP, 20)
    throttle.settle(lost, None)
    assert throttle.state(SHOP).available == pytest.approx(30, abs=0.5)
    # A late answer computed before both calls says 100: only the 20 doubtful points come back.
    late = throttle.reserve(SHOP, 0)
    throttle.settle(late, status(maximum=100, current=100, rate=0.001), actual_cost=0)
    assert throttle.state(SHOP).available == pytest.approx(50, abs=0.5)
    again = throttle.reserve(SHOP, 0)
    throttle.settle(again, status(maximum=100, current=100, rate=0.001), actual_cost=0)
    assert throttle.state(SHOP).available == pytest.approx(50, abs=0.5)


def test_reservations_of_dead_workers_expire(redis_conn):
    throttle = CostThrottle(redis_conn, reservation_ttl=0.2)
    throttle.observe(SHOP, status(maximum=100, current=100, rate=0.001))
    throttle.reserve(SHOP, 40)  # the worker dies before settling
    assert throttle.state(SHOP).in_flight == 40
    time.sleep(0.3)
    throttle.observe(SHOP, status(maximum=100, current=50, rate=0.001))
    state = throttle.state(SHOP)
    assert state.in_flight == 0
    assert state.available == pytest.approx(50, abs=0.5)  # not 50 - 40


def test_acquire_sleeps_for_the_refill(redis_conn):
    slept = []
    throttle = CostThrottle(redis_conn, sleep=slept.append)
    throttle.observe(SHOP, status(maximum=100, current=10, rate=20))
    throttle.acquire(SHOP, 50, deadline=time.monotonic() + 60)
    assert slept == [pytest.approx(2.0, abs=0.05)]


def test_acquire_past_the_deadline_refunds_and_raises_retryable(redis_conn):
    slept = []
    throttle = CostThrottle(redis_conn, sleep=slept.append)
    throttle.observe(SHOP, status(maximum=100, current=0, rate=1))
    with pytest.raises(RetryableError) as caught:
        throttle.acquire(SHOP, 50, deadline=time.monotonic() + 5)
    assert caught.value.retry_after == 50
    assert slept == []
    state = throttle.state(SHOP)
    assert state.in_flight == 0
    assert state.available < 1


def test_shops_have_separate_buckets(throttle):
    throttle.observe(SHOP, status(maximum=100, current=0, rate=1))
    assert throttle.reserve("other.myshopify.com", 50).wait == 0
    assert throttle.reserve(SHOP, 50).wait > 0


def test_workers_on_separate_connections_never_overdraw_the_shared_bucket(redis_url):
    """Eight threads, each with its own Redis connection (as separate processes would have),
    spend 10 points at a time from a 50-point bucket refilled at 400 points/s."""
    setup = redis_lib.Redis.from_url(redis_url)
    CostThrottle(setup).observe(SHOP, status(maximum=50, current=50, rate=400))
    admitted: list[tuple[float, float]] = []
    lock = threading.Lock()

    def worker():
        conn = redis_lib.Redis.from_url(redis_url)
        throttle = CostThrottle(conn)
        for _ in range(10):
            reservation = throttle.acquire(SHOP, 10, deadline=time.monotonic() + 30)
            with lock:
                admitted.append((time.monotonic(), reservation.cost))
            throttle.settle(reservation, None)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert len(admitted) == 80
    # 800 points through a 50-point bucket at 400/s take at least (800 - 50) / 400 s.
    assert elapsed >= (800 - 50) / 400 * 0.95
    admitted.sort()
    spent = 0.0
    for at, cost in admitted:
        spent += cost
        assert spent <= 50 + (at - started) * 400 + 20  # small slack for clock skew
    setup.close()


def test_costs_are_learned_per_document_and_page_size(throttle):
    document = load_document("Locations").ast
    signature, cost = throttle.cost_for("Locations", document, {"first": 100})
    assert cost == estimate_cost(document, {"first": 100}) == 2 + 100 * 2
    throttle.learn(signature, 152)
    assert throttle.cost_for("Locations", document, {"first": 100}) == (signature, 152)
    # Another page size is another cost.
    other, estimate = throttle.cost_for("Locations", document, {"first": 10})
    assert other != signature and estimate == 22


def test_static_estimate_follows_shopifys_rules():
    mutation = parse("mutation M { a { b } c { d } }")
    assert estimate_cost(mutation) == 2 * 10 + 2
    nested = parse("query Q { order(id: 1) { lines(first: 5) { nodes { id variant { id } } } } }")
    assert estimate_cost(nested) == 1 + 2 + 5 * (1 + 1)
    by_ids = parse("query Q($ids: [ID!]!) { nodes(ids: $ids) { ... on X { id y { id } } } }")
    assert estimate_cost(by_ids, {"ids": ["1", "2", "3"]}) == 3 * 2
