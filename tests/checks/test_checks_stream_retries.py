"""checks.stream_retries: a bounded number of retries, 0 to 10,000."""

import pytest

from lambda_patterns.checks.stream_retries import check_stream_retries
from test_checks_support import refusal

CODE = "LambdaPatterns.Stream.RetryAttempts"


@pytest.mark.parametrize("retry_attempts", [0, 2, 10_000])
def test_accepts_a_bound(retry_attempts):
    check_stream_retries("W", retry_attempts)


@pytest.mark.parametrize(
    ("retry_attempts", "message"),
    [
        (-2, "W: retry_attempts must be between -1 and 10,000, got -2"),
        (10_001, "W: retry_attempts must be between -1 and 10,000, got 10001"),
        (
            -1,
            "W: retry_attempts=-1 retries a poison record until it expires and blocks its shard; give a bound",
        ),
    ],
)
def test_refuses_no_bound_or_one_lambda_refuses(retry_attempts, message):
    error = refusal(check_stream_retries, "W", retry_attempts)

    assert (error.code, str(error)) == (CODE, message)
