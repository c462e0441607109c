"""Coalescing stock pushes to a sales channel: a per-shop set of dirty SKUs in Redis and at most
one pending push job for it. A burst of ledger changes becomes one job; a change that lands while
the job runs (after it cleared the pending flag) enqueues the next one. Shared by the Shopify push
(:mod:`integration.stock.push`) and the Amazon quantities (:mod:`integration.stock.amazon_quantities`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from integration.extensions import queues, redis


@dataclass(frozen=True)
class PushSchedule:
    prefix: str  # Redis key prefix of the channel, e.g. "nearstock:stock"
    job_name: str  # job_catalog name of the push job
    job_id: Callable[[int, int], str]  # job_catalog id builder: (shop_id, sequence) -> id
    pending_ttl: int = 120  # seconds; a lost push job stops blocking new ones after this

    def key(self, kind: str, shop_id: int) -> str:
        return f"{self.prefix}:{kind}:{{{shop_id}}}"  # one hash tag per shop: one cluster slot

    def schedule(self, shop_id: int, skus: Sequence[str]) -> bool:
        """Mark ``skus`` dirty; enqueue a push job unless one is pending. True when enqueued."""
        client = redis.client
        with client.pipeline() as pipe:
            if skus:
                pipe.sadd(self.key("dirty", shop_id), *skus)
            pipe.set(self.key("pending", shop_id), "1", nx=True, ex=self.pending_ttl)
            claimed = pipe.execute()[-1]
        if not claimed:
            return False
        seq = client.incr(self.key("push-seq", shop_id))
        queues.enqueue("sync", self.job_name, shop_id, job_id=self.job_id(shop_id, seq), unique=True)
        return True
