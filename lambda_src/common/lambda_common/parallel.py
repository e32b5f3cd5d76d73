"""The parallel per-item writes the stream consumers share, each failure reported against its key."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    K = TypeVar("K", bound=Hashable)
    R = TypeVar("R")


def write_each(
    keys: Sequence[K],
    write: Callable[[K], R],
    *,
    concurrency: int,
    retryable: tuple[type[BaseException], ...],
) -> tuple[dict[K, R], dict[K, str]]:
    """``write(key)`` for every key, ``concurrency`` at a time: results, and the errors of the writes that
    raised one of ``retryable`` (their records are reported; any other exception is a bug and propagates)."""
    results: dict[K, R] = {}
    errors: dict[K, str] = {}
    if not keys:
        return results, errors
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(keys)))) as pool:
        futures = {key: pool.submit(write, key) for key in keys}
        for key, future in futures.items():
            try:
                results[key] = future.result()
            except retryable as error:
                errors[key] = f"{type(error).__name__}: {error}"
    return results, errors
