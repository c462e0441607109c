"""Sensing jobs: the daily stock digest (the shifts, stock alerts and transfers themselves are
written by the insights computation, :func:`integration.insights.sensing.sense_shop`)."""

from __future__ import annotations

from integration.insights import digest
from jobs.runtime import job


@job
def send_stock_digests() -> int:
    """Cron, daily: one e-mail per shop listing its open low-stock and stock-out alerts."""
    return digest.send_digests()
