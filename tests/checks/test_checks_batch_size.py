"""checks.batch_size: 1 to 10,000 records or messages per batch."""

import pytest

from lambda_patterns.checks.batch_size import check_batch_size
from test_checks_support import refusal

CODE = "LambdaPatterns.Trigger.BatchSize"


@pytest.mark.parametrize("batch_size", [1, 10, 10_000])
def test_accepts_lambdas_range(batch_size):
    check_batch_size("W", batch_size)


@pytest.mark.parametrize("batch_size", [0, -5, 10_001])
def test_refuses_outside_lambdas_range(batch_size):
    error = refusal(check_batch_size, "W", batch_size)

    assert (error.code, str(error)) == (CODE, f"W: batch_size must be between 1 and 10,000, got {batch_size}")
