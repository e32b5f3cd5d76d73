"""checks.async_failure: a known mode, and a failure queue only for a mode that uses one."""

import pytest

from lambda_patterns.checks.async_failure import ASYNC_FAILURE_MODES, check_async_failure
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.AsyncFailure"


@pytest.mark.parametrize(
    ("async_failure", "queue"),
    [
        *((mode, None) for mode in ASYNC_FAILURE_MODES),
        ("destination", "queue"),
        ("dead_letter_queue", "queue"),
    ],
)
def test_accepts_known_modes(async_failure, queue):
    check_async_failure("W", async_failure, queue)


@pytest.mark.parametrize(
    ("async_failure", "queue", "message"),
    [
        (
            "retry",
            None,
            "W: async_failure must be one of ('destination', 'dead_letter_queue', 'none'), got 'retry'",
        ),
        ("none", "queue", "W: existing_failure_queue has no use with async_failure='none'"),
    ],
)
def test_refuses_unknown_modes_and_unused_queues(async_failure, queue, message):
    error = refusal(check_async_failure, "W", async_failure, queue)

    assert (error.code, str(error)) == (CODE, message)
