"""checks.visibility_timeout: a queue hides a message at least as long as the function may run."""

import pytest

from lambda_patterns.checks.visibility_timeout import check_visibility_timeout
from test_checks_support import refusal

CODE = "LambdaPatterns.Sqs.VisibilityTimeout"


@pytest.mark.parametrize(("visibility_s", "timeout_s"), [(None, 900), (60, 60), (360, 60)])
def test_accepts_an_unknown_or_long_enough_visibility(visibility_s, timeout_s):
    check_visibility_timeout("W", visibility_s, timeout_s)


@pytest.mark.parametrize(
    ("visibility_s", "timeout_s", "shown"),
    [
        (30, 60, "(30 s) is shorter than the function's timeout (60 s)"),
        (59.5, 60, "(59.5 s) is shorter than the function's timeout (60 s)"),
    ],
)
def test_refuses_a_shorter_visibility(visibility_s, timeout_s, shown):
    error = refusal(check_visibility_timeout, "W", visibility_s, timeout_s)

    assert (error.code, str(error)) == (
        CODE,
        f"W: the queue's visibility timeout {shown}: messages would be delivered twice, and Lambda refuses "
        "such an event source mapping at deploy time",
    )
