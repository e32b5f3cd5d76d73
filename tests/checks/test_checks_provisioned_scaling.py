"""checks.provisioned_scaling: a maximum needs a minimum, and lies between it and the reserved concurrency."""

import pytest

from lambda_patterns.checks.provisioned_scaling import check_provisioned_scaling
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.ProvisionedScaling"


@pytest.mark.parametrize(
    ("reserved", "provisioned", "provisioned_max"),
    [(None, None, None), (None, 2, None), (None, 1, 10), (10, 1, 10), (None, 5, 5)],
)
def test_accepts_a_range_to_scale_in(reserved, provisioned, provisioned_max):
    check_provisioned_scaling("W", reserved, provisioned, provisioned_max)


@pytest.mark.parametrize(
    ("reserved", "provisioned", "provisioned_max", "message"),
    [
        (
            None,
            None,
            5,
            "W: provisioned_concurrency_max needs provisioned_concurrency (the minimum it scales from)",
        ),
        (None, 5, 2, "W: provisioned_concurrency_max (2) must be at least provisioned_concurrency (5)"),
        (4, 1, 5, "W: provisioned_concurrency_max (5) cannot exceed reserved_concurrency (4)"),
    ],
)
def test_refuses_a_range_it_cannot_scale_in(reserved, provisioned, provisioned_max, message):
    error = refusal(check_provisioned_scaling, "W", reserved, provisioned, provisioned_max)

    assert (error.code, str(error)) == (CODE, message)
