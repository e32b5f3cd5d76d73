"""checks.overrides: function_props cannot set what the construct sets itself."""

import pytest

from lambda_patterns.checks.overrides import check_function_props
from test_checks_support import refusal

CODE = "LambdaPatterns.Props.FunctionProps"
OWNED = ("environment", "handler")


@pytest.mark.parametrize("function_props", [None, {}, {"description": "d", "memory_size": 1024}])
def test_accepts_props_the_construct_leaves_open(function_props):
    check_function_props("W", function_props, OWNED)


@pytest.mark.parametrize(
    ("function_props", "message"),
    [
        (
            {"environment": {}},
            "W: function_props cannot set environment: this construct sets it itself (use its own props, "
            "e.g. memory_size, where it has them)",
        ),
        (
            {"handler": "h.h", "environment": {}, "description": "d"},
            "W: function_props cannot set environment, handler: this construct sets them itself (use its own "
            "props, e.g. memory_size, where it has them)",
        ),
    ],
)
def test_refuses_props_the_construct_owns(function_props, message):
    error = refusal(check_function_props, "W", function_props, OWNED)

    assert (error.code, str(error)) == (CODE, message)
