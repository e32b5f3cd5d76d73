"""checks.max_concurrency: 2 to 1,000 concurrent invocations for a queue, or no limit."""

import pytest

from lambda_patterns.checks.max_concurrency import check_max_concurrency
from test_checks_support import refusal

CODE = "LambdaPatterns.Sqs.MaxConcurrency"


@pytest.mark.parametrize("max_concurrency", [None, 2, 1000])
def test_accepts_no_limit_or_lambdas_range(max_concurrency):
    check_max_concurrency("W", max_concurrency)


@pytest.mark.parametrize("max_concurrency", [0, 1, 1001])
def test_refuses_outside_lambdas_range(max_concurrency):
    error = refusal(check_max_concurrency, "W", max_concurrency)

    assert (error.code, str(error)) == (
        CODE,
        f"W: max_concurrency must be between 2 and 1,000, got {max_concurrency}",
    )
