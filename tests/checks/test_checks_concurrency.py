"""checks.concurrency: reserved 0 or more, provisioned 1 or more and within reserved."""

import pytest

from lambda_patterns.checks.concurrency import check_concurrency
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.Concurrency"


@pytest.mark.parametrize(("reserved", "provisioned"), [(None, None), (0, None), (None, 1), (5, 5), (10, 2)])
def test_accepts_counts_lambda_takes(reserved, provisioned):
    check_concurrency("W", reserved, provisioned)


@pytest.mark.parametrize(
    ("reserved", "provisioned", "message"),
    [
        (-1, None, "W: reserved_concurrency must be 0 or more, got -1"),
        (None, 0, "W: provisioned_concurrency must be 1 or more, got 0"),
        (2, 5, "W: provisioned_concurrency (5) cannot exceed reserved_concurrency (2)"),
    ],
)
def test_refuses_impossible_counts(reserved, provisioned, message):
    error = refusal(check_concurrency, "W", reserved, provisioned)

    assert (error.code, str(error)) == (CODE, message)
