"""checks.memory: 128 to 10,240 MB."""

import pytest

from lambda_patterns.checks.memory import check_memory
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.Memory"


@pytest.mark.parametrize("memory_mb", [128, 512, 10_240])
def test_accepts_lambdas_range(memory_mb):
    check_memory(memory_mb, "W")


@pytest.mark.parametrize("memory_mb", [0, 127, 10_241])
def test_refuses_outside_lambdas_range(memory_mb):
    error = refusal(check_memory, memory_mb, "W")

    assert (error.code, str(error)) == (
        CODE,
        f"W: memory_size must be between 128 and 10240 MB (Lambda's limit), got {memory_mb} MB",
    )
