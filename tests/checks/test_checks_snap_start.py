"""checks.snap_start: a runtime with SnapStart, and no provisioned concurrency beside it."""

import pytest
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.checks.snap_start import check_snap_start
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.SnapStart"


@pytest.mark.parametrize(
    ("snap_start", "runtime", "provisioned"),
    [
        (False, lambda_.Runtime.PYTHON_3_11, 5),
        (True, lambda_.Runtime.PYTHON_3_12, None),
        (True, lambda_.Runtime.PYTHON_3_14, None),
    ],
)
def test_accepts_snap_start_where_lambda_has_it(snap_start, runtime, provisioned):
    check_snap_start("W", snap_start, runtime, provisioned)


@pytest.mark.parametrize(
    ("runtime", "provisioned", "message"),
    [
        (
            lambda_.Runtime.PYTHON_3_11,
            None,
            "W: snap_start needs a runtime with SnapStart (Python 3.12 or newer); python3.11 has none",
        ),
        (
            lambda_.Runtime.PYTHON_3_12,
            1,
            "W: snap_start and provisioned_concurrency cannot be combined (Lambda supports one or the other on "
            "a version); choose SnapStart for cheaper, provisioned concurrency for the lowest latency",
        ),
    ],
)
def test_refuses_snap_start_lambda_would_refuse(runtime, provisioned, message):
    error = refusal(check_snap_start, "W", True, runtime, provisioned)

    assert (error.code, str(error)) == (CODE, message)
