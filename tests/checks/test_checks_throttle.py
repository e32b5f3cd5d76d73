"""checks.throttle: a stage's rate and burst limits are positive."""

import pytest

from lambda_patterns.checks.throttle import check_throttle
from test_checks_support import refusal

CODE = "LambdaPatterns.Api.Throttle"


@pytest.mark.parametrize(("rate", "burst"), [(100, 200), (1, 1), (0.5, 1)])
def test_accepts_positive_limits(rate, burst):
    check_throttle("W", rate, burst)


@pytest.mark.parametrize(("rate", "burst"), [(0, 200), (100, 0), (-1, -1)])
def test_refuses_a_limit_that_would_refuse_every_request(rate, burst):
    error = refusal(check_throttle, "W", rate, burst)

    assert (error.code, str(error)) == (CODE, "W: throttle limits must be positive")
