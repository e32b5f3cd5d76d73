"""checks.stream_parallelization: 1 to 10 concurrent batches per shard."""

import pytest

from lambda_patterns.checks.stream_parallelization import check_parallelization_factor
from test_checks_support import verdict

REFUSED = (
    "LambdaPatterns.Stream.ParallelizationFactor",
    "W: parallelization_factor must be between 1 and 10",
)


@pytest.mark.parametrize(
    ("factor", "expected"), [(1, None), (5, None), (10, None), (0, REFUSED), (11, REFUSED)]
)
def test_takes_lambdas_range_only(factor, expected):
    assert verdict(check_parallelization_factor, "W", factor) == expected
