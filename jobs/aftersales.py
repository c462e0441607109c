"""After-sales jobs for the merchant: the weekly digest (the returns' own flow is in jobs/returns.py)."""

from __future__ import annotations

from integration.returns import weekly_digest
from jobs.runtime import job


@job
def send_aftersales_digests() -> int:
    """Cron, weekly: one e-mail per shop with last week's return reasons, NPS, promise-kept and themes."""
    return weekly_digest.send_digests()
