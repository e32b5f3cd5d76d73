"""checks.max_receive_count: 1 to 1,000 receives before the dead-letter queue."""

import pytest

from lambda_patterns.checks.max_receive_count import check_max_receive_count
from test_checks_support import verdict

CODE = "LambdaPatterns.Sqs.MaxReceiveCount"


def _refused(count):
    return CODE, f"W: max_receive_count must be between 1 and 1,000, got {count}"


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, None), (3, None), (1000, None), (0, _refused(0)), (1001, _refused(1001))],
)
def test_takes_sqss_range_only(count, expected):
    assert verdict(check_max_receive_count, "W", count) == expected
