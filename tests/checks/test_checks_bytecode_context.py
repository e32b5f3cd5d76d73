"""checks.bytecode_context: the ``lambda-patterns:bytecode`` context is a flag, true or false."""

import pytest

from lambda_patterns.checks.bytecode_context import check_bytecode_context
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.BytecodeContext"


@pytest.mark.parametrize(
    ("value", "flag"),
    [(None, False), (True, True), (False, False), ("true", True), ("false", False), (" TRUE ", True)],
)
def test_reads_absent_booleans_and_their_strings(value, flag):
    assert check_bytecode_context("W", "lambda-patterns:bytecode", value) is flag


@pytest.mark.parametrize("value", ["yes", "1", 1, 0, ["true"], ""])
def test_refuses_anything_else(value):
    error = refusal(check_bytecode_context, "W", "lambda-patterns:bytecode", value)

    assert (error.code, str(error)) == (
        CODE,
        f"W: the context lambda-patterns:bytecode is {value!r}; it takes true or false "
        "(cdk synth -c lambda-patterns:bytecode=true)",
    )
