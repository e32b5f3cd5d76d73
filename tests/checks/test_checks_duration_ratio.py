"""checks.duration_ratio: the duration alarm fires at a fraction of the timeout, strictly inside (0, 1)."""

import pytest

from lambda_patterns.checks.duration_ratio import check_duration_ratio
from test_checks_support import refusal

CODE = "LambdaPatterns.Monitoring.DurationRatio"


@pytest.mark.parametrize("ratio", [0.01, 0.8, 0.99])
def test_accepts_a_fraction(ratio):
    check_duration_ratio(ratio)


@pytest.mark.parametrize("ratio", [0, 1, 1.2, -0.5])
def test_refuses_anything_else(ratio):
    error = refusal(check_duration_ratio, ratio)

    assert (error.code, str(error)) == (
        CODE,
        f"duration ratio must be between 0 and 1 (exclusive), got {ratio}",
    )
