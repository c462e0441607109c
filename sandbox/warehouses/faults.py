"""Fault injection shared by the warehouse emulators: 429, 5xx and slow answers at a rate."""

from __future__ import annotations

import random
import time


class Faults:
    def __init__(self, rate: float = 0.0, kinds: tuple[str, ...] = ("429", "500", "slow"), *,
                 seed: int | None = None, slow_seconds: float = 6.0) -> None:
        self.rate, self.kinds = rate, tuple(kinds)
        self.rng = random.Random(seed)
        self.slow_seconds = slow_seconds
        self.injected: list[str] = []

    def set(self, rate: float, kinds: tuple[str, ...] | None = None) -> None:
        self.rate = rate
        if kinds is not None:
            self.kinds = tuple(kinds)

    def draw(self) -> str | None:
        """The fault to inject on this request, if any ("slow" sleeps here and returns None)."""
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        self.injected.append(kind)
        if kind == "slow":
            time.sleep(self.slow_seconds)
            return None
        return kind
