"""checks.async_retries: 0, 1 or 2 retries of a failed asynchronous event."""

import pytest

from lambda_patterns.checks.async_retries import check_async_retries
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.AsyncRetries"


@pytest.mark.parametrize("retry_attempts", [0, 1, 2])
def test_accepts_lambdas_range(retry_attempts):
    check_async_retries("W", retry_attempts)


@pytest.mark.parametrize("retry_attempts", [-1, 3])
def test_refuses_outside_lambdas_range(retry_attempts):
    error = refusal(check_async_retries, "W", retry_attempts)

    assert (error.code, str(error)) == (CODE, f"W: retry_attempts must be 0, 1 or 2, got {retry_attempts}")
