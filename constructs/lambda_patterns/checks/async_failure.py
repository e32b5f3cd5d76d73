"""Where failed asynchronous events go: one of the known modes, and a queue only for a mode that uses one."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.AsyncFailure"
#: An on-failure destination queue (which keeps the error with the event), a dead-letter queue, or nothing.
ASYNC_FAILURE_MODES = ("destination", "dead_letter_queue", "none")


def check_async_failure(where: str, async_failure: str, existing_failure_queue: Any) -> None:
    problem = _problem(async_failure, existing_failure_queue)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(async_failure: str, existing_failure_queue: Any) -> str | None:
    if async_failure not in ASYNC_FAILURE_MODES:
        return f"async_failure must be one of {ASYNC_FAILURE_MODES}, got {async_failure!r}"
    if async_failure == "none" and existing_failure_queue is not None:
        return "existing_failure_queue has no use with async_failure='none'"
    return None
