"""What an invocation would cost in Lambda: billed duration rounded up to 1 ms, GB-seconds, requests."""

from __future__ import annotations

import math

#: USD per GB-second, by architecture (us-east-1, first pricing tier).
PRICE_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
#: USD per request.
PRICE_PER_REQUEST = 0.20 / 1_000_000


def billed_ms(duration_ms: float) -> int:
    """Lambda bills whole milliseconds, rounding up, and at least 1 ms."""
    return max(1, math.ceil(duration_ms))


def invocation_cost(duration_ms: float, memory_mb: int, architecture: str) -> float:
    """USD for one invocation of ``duration_ms`` at ``memory_mb`` on ``architecture``."""
    gb_seconds = (memory_mb / 1024) * (billed_ms(duration_ms) / 1000)
    return gb_seconds * PRICE_PER_GB_SECOND[architecture] + PRICE_PER_REQUEST


def invocation_line(
    function: str,
    trigger: str,
    duration_ms: float,
    result: str,
    memory_mb: int,
    architecture: str,
) -> str:
    """The console line of one invocation."""
    return (
        f"{function} <- {trigger}: {result}, {duration_ms:.1f} ms, billed {billed_ms(duration_ms)} ms at "
        f"{memory_mb} MB {architecture}, ${invocation_cost(duration_ms, memory_mb, architecture):.10f}"
    )


def start_line(request_id: str) -> str:
    """The line Lambda writes to the log stream when an invocation starts."""
    return f"START RequestId: {request_id} Version: $LATEST"


def end_line(request_id: str) -> str:
    """The line Lambda writes when the invocation's handler has returned (or failed)."""
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None = None,
) -> str:
    """Lambda's ``REPORT`` line (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html), fields
    separated by tabs; ``Init Duration`` only on the first invocation of a new execution environment. The
    billed duration is that of the duration as reported (two decimals), rounded up to the millisecond."""
    duration = round(duration_ms, 2)
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {billed_ms(duration)} ms"
        f"\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB"
    )
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    return line
