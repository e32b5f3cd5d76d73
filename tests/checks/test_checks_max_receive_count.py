"""checks.max_receive_count: 1 to 1,000 receives before the dead-letter queue."""

import pytest

from lambda_patterns.checks.max_receive_count import check_max_receive_count
from test_checks_support import refusal

CODE = "LambdaPatterns.Sqs.MaxReceiveCount"


@pytest.mark.parametrize("count", [1, 3, 1000])
def test_accepts_sqss_range(count):
    check_max_receive_count("W", count)


@pytest.mark.parametrize("count", [0, 1001])
def test_refuses_outside_sqss_range(count):
    error = refusal(check_max_receive_count, "W", count)

    assert (error.code, str(error)) == (
        CODE,
        f"W: max_receive_count must be between 1 and 1,000, got {count}",
    )
