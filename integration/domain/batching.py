"""Cutting a stream of items into bounded batches (API page sizes, SQL ``IN`` lists)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive lists of at most ``size`` items (``itertools.batched`` is 3.12+)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
