"""checks.exactly_one: of two props naming the construct's input, exactly one."""

import pytest

from lambda_patterns.checks.exactly_one import check_exactly_one
from test_checks_support import refusal

CODE = "LambdaPatterns.Props.ExactlyOne"


@pytest.mark.parametrize(("first", "second"), [("pattern", None), (None, "schedule"), ("", None)])
def test_accepts_exactly_one(first, second):
    check_exactly_one("W", "event_pattern", first, "schedule", second)


@pytest.mark.parametrize(("first", "second"), [(None, None), ("pattern", "schedule")])
def test_refuses_neither_or_both(first, second):
    error = refusal(check_exactly_one, "W", "event_pattern", first, "schedule", second)

    assert (error.code, str(error)) == (CODE, "W: give exactly one of event_pattern or schedule")
