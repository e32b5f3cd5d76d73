"""checks.recommendation_limits: a default and a maximum the recommendations API can serve."""

import pytest

from lambda_patterns.checks.recommendation_limits import check_recommendation_limits
from test_checks_support import verdict

CODE = "LambdaPatterns.Recommendations.Limits"


@pytest.mark.parametrize(
    ("default", "maximum", "refusal"),
    [
        (10, 50, None),
        (1, 1, None),
        (1000, 1000, None),
        (0, 50, "W: default_limit must be a whole number from 1 to 1000, got 0"),
        (True, 50, "W: default_limit must be a whole number from 1 to 1000, got True"),
        (10, 1001, "W: max_limit must be a whole number from 1 to 1000, got 1001"),
        (10, 2.5, "W: max_limit must be a whole number from 1 to 1000, got 2.5"),
        (60, 50, "W: default_limit 60 is above max_limit 50"),
    ],
)
def test_recommendation_limits(default, maximum, refusal):
    assert verdict(check_recommendation_limits, "W", default, maximum) == (
        None if refusal is None else (CODE, refusal)
    )
