"""checks.stream_parallelization: 1 to 10 concurrent batches per shard."""

import pytest

from lambda_patterns.checks.stream_parallelization import check_parallelization_factor
from test_checks_support import refusal

CODE = "LambdaPatterns.Stream.ParallelizationFactor"


@pytest.mark.parametrize("factor", [1, 5, 10])
def test_accepts_lambdas_range(factor):
    check_parallelization_factor("W", factor)


@pytest.mark.parametrize("factor", [0, 11])
def test_refuses_outside_lambdas_range(factor):
    error = refusal(check_parallelization_factor, "W", factor)

    assert (error.code, str(error)) == (CODE, "W: parallelization_factor must be between 1 and 10")
