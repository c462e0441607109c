"""WINIT gateway faults and the rate limit: retryable errors, one shared budget for all workers."""

from __future__ import annotations

import threading

import pytest

from connectors.errors import RetryableError
from tests.winit_fixtures import winit_provider_for


@pytest.mark.parametrize("kind", ["429", "500"])
def test_gateway_faults_are_retryable(winit_provider, winit_emulator, kind):
    winit_emulator.faults.set(1.0, (kind,))
    with pytest.raises(RetryableError) as exc:
        winit_provider.list_warehouses()
    assert exc.value.retry_after == (1.0 if kind == "429" else None)
    winit_emulator.faults.set(0.0)
    assert winit_provider.list_warehouses()


def test_two_threads_stay_under_the_published_rate(winit_emulator, redis_conn):
    errors: list[Exception] = []

    def work():
        provider = winit_provider_for(winit_emulator, redis_conn)  # own session, shared Redis bucket
        try:
            for _ in range(14):
                provider.list_warehouses()
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert len(winit_emulator.calls) == 28 and winit_emulator.violations == 0


def test_requests_over_the_rate_get_the_throttling_error(winit_emulator, redis_conn, monkeypatch):
    monkeypatch.setattr("connectors.quick_retry.QUICK_RETRIES", 0)  # WINIT's answer itself, not waited out

    class NoLimit:
        def take(self, *args, **kwargs):
            return None

    provider = winit_provider_for(winit_emulator, redis_conn)
    provider.limiter = NoLimit()
    with pytest.raises(RetryableError) as exc:
        for _ in range(40):
            provider.list_warehouses()
    assert exc.value.retry_after == 1.0 and exc.value.refused and "400005" in str(exc.value)
    assert winit_emulator.violations >= 1


def test_a_read_is_retried_inside_the_call_a_create_only_when_refused(winit_emulator, redis_conn, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("connectors.quick_retry.time.sleep", slept.append)
    provider = winit_provider_for(winit_emulator, redis_conn)
    winit_emulator.faults.set(1.0, ("500",))
    with pytest.raises(RetryableError):
        provider.list_warehouses()
    assert len(winit_emulator.calls_to("queryWarehouse")) == 3 and slept == [0.5, 1.0]
    slept.clear()
    winit_emulator.faults.set(0.0)
    assert provider.list_warehouses()  # and once the fault passes, the read answers
