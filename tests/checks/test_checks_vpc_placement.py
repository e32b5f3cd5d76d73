"""checks.vpc_placement: subnets and security groups only with a VPC."""

import pytest

from lambda_patterns.checks.vpc_placement import check_vpc_placement
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.VpcPlacement"


@pytest.mark.parametrize(
    ("vpc", "subnets", "groups"), [(None, None, None), ("vpc", None, None), ("vpc", "private", ["sg"])]
)
def test_accepts_a_placement_inside_a_vpc(vpc, subnets, groups):
    check_vpc_placement("W", vpc, subnets, groups)


@pytest.mark.parametrize(("subnets", "groups"), [("private", None), (None, ["sg"]), (None, [])])
def test_refuses_a_placement_without_a_vpc(subnets, groups):
    error = refusal(check_vpc_placement, "W", None, subnets, groups)

    assert (error.code, str(error)) == (CODE, "W: vpc_subnets and security_groups need vpc")
