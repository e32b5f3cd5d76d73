"""Lambda's partial batch response, and the parallel per-item writes the stream consumers share.

A handler reports only the records that must be delivered again, as ``batchItemFailures``; with
``ReportBatchItemFailures`` on, Lambda deletes the rest (SQS) or checkpoints before the lowest reported
sequence number (streams). One helper builds that shape everywhere so no handler gets it subtly wrong (an
identifier that is not in the batch makes Lambda retry the whole batch).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    K = TypeVar("K", bound=Hashable)
    R = TypeVar("R")


def batch_response(
    failed: Iterable[str], *, sequence_numbers: bool = False, state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``{"batchItemFailures": [{"itemIdentifier": ...}]}``, each identifier once.

    SQS message ids keep the order given (a FIFO handler reports a group's tail in order); stream sequence
    numbers (``sequence_numbers=True``) are sorted numerically, lowest first, where Lambda resumes.
    ``state``: the tumbling-window state to hand back (a window invocation must return one).
    """
    unique = list(dict.fromkeys(failed))
    if sequence_numbers:
        unique.sort(key=lambda s: (len(s), s))
    response: dict[str, Any] = {"batchItemFailures": [{"itemIdentifier": i} for i in unique]}
    if state is not None:
        response["state"] = state
    return response


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
