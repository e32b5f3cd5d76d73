"""checks.timeout: 1 to 900 seconds, unless only known at deploy time."""

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from lambda_patterns.checks.timeout import check_timeout
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.Timeout"


@pytest.mark.parametrize(
    "timeout",
    [
        Duration.seconds(1),
        Duration.seconds(30),
        Duration.minutes(15),
        Duration.seconds(cdk.Token.as_number({"Ref": "Timeout"})),
    ],
)
def test_accepts_lambdas_range_and_tokens(timeout):
    check_timeout(timeout, "W")


@pytest.mark.parametrize(("timeout", "got"), [(Duration.seconds(0), "0"), (Duration.minutes(16), "960")])
def test_refuses_outside_lambdas_range(timeout, got):
    error = refusal(check_timeout, timeout, "W")

    assert (error.code, str(error)) == (
        CODE,
        f"W: timeout must be between 1 and 900 seconds (Lambda's limit), got {got} seconds",
    )
