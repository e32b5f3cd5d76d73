"""checks.batching_window: a batch above 10 messages waits at least 1 second."""

import pytest
from aws_cdk import Duration

from lambda_patterns.checks.batching_window import check_batching_window
from test_checks_support import refusal

CODE = "LambdaPatterns.Sqs.BatchingWindow"


@pytest.mark.parametrize(
    ("batch_size", "window"),
    [
        (10, Duration.seconds(0)),
        (1, Duration.seconds(0)),
        (11, Duration.seconds(1)),
        (10_000, Duration.minutes(5)),
    ],
)
def test_accepts_small_batches_or_a_window(batch_size, window):
    check_batching_window("W", batch_size, window)


@pytest.mark.parametrize("batch_size", [11, 100])
def test_refuses_a_large_batch_without_a_window(batch_size):
    error = refusal(check_batching_window, "W", batch_size, Duration.seconds(0))

    assert (error.code, str(error)) == (
        CODE,
        f"W: batch_size {batch_size} needs a max_batching_window of at least 1 second (Lambda refuses a larger "
        "batch than 10 without one), got 0 s",
    )
