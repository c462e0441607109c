"""GoodcangProvider against the Goodcang emulator when things go wrong: gateway faults, Goodcang's
throttling answer, the shared rate limit, timeouts."""

from __future__ import annotations

import threading

import pytest

from connectors.errors import RetryableError
from connectors.http import make_session
from tests.goodcang_fixtures import GOODCANG_STOCK


@pytest.mark.parametrize("fault", ["429", "500"])
def test_gateway_faults_are_retryable(goodcang_provider, goodcang_emulator, fault):
    goodcang_emulator.faults.set(1.0, (fault,))
    with pytest.raises(RetryableError) as caught:
        goodcang_provider.list_warehouses()
    assert caught.value.retry_after == (1.0 if fault == "429" else None)
    goodcang_emulator.faults.set(0.0)
    assert goodcang_provider.list_warehouses()


def test_goodcang_throttling_answer_is_retryable(make_goodcang_emulator, make_goodcang_provider):
    emulator = make_goodcang_emulator(rate_limit=1.0)
    emulator.jitter_allowance = 0.0
    provider = make_goodcang_provider(emulator)
    provider.limiter.set_rate(1000.0, 1000.0)  # a client that ignores the published limit
    provider.list_warehouses()
    with pytest.raises(RetryableError) as caught:
        provider.list_warehouses()
    assert caught.value.retry_after == 1.0
    assert emulator.calls[-1]["status"] == 403 and len(emulator.violations) == 1


def test_two_threads_share_the_rate_limit_without_violations(goodcang_emulator, make_goodcang_provider):
    providers = [make_goodcang_provider(goodcang_emulator) for _ in range(2)]
    errors = []

    def work(provider):
        try:
            for _ in range(8):
                provider.get_inventory("DE", ["MUG-BLUE"])
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert goodcang_emulator.violations == []
    assert sum(c["status"] == 200 for c in goodcang_emulator.calls) == 16


def test_timeouts_are_retryable(make_goodcang_emulator, make_goodcang_provider):
    emulator = make_goodcang_emulator(fault_rate=1.0, fault_kinds=("slow",), slow_seconds=1.5)
    provider = make_goodcang_provider(emulator, session=make_session(timeout=(1.0, 0.3)))
    with pytest.raises(RetryableError):
        provider.list_warehouses()


def test_stock_fixture_matches_the_sim(goodcang_emulator):
    for warehouse, skus in GOODCANG_STOCK.items():
        for sku, quantity in skus.items():
            assert goodcang_emulator.sim.stock[(warehouse, sku)].on_hand == quantity
