"""Lambda's partial batch response, built one way for every handler.

A handler reports only the records that must be delivered again, as ``batchItemFailures``; with
``ReportBatchItemFailures`` on, Lambda deletes the rest (SQS) or checkpoints before the lowest reported
sequence number (streams). One helper builds that shape everywhere so no handler gets it subtly wrong (an
identifier that is not in the batch makes Lambda retry the whole batch). The stream consumers' parallel
per-item writes are :mod:`lambda_common.parallel`, a module of its own, so a handler that only reports
failures does not compile them at every cold start (Lambda runs these sources without bytecode).
"""

from __future__ import annotations

from collections.abc import Iterable

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
