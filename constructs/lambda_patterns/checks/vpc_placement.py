"""Subnets and security groups place a function in a VPC: without ``vpc`` they would be ignored."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.VpcPlacement"


def check_vpc_placement(where: str, vpc: Any, vpc_subnets: Any, security_groups: Any) -> None:
    if vpc is None and (vpc_subnets is not None or security_groups is not None):
        raise ConfigurationError(f"{where}: vpc_subnets and security_groups need vpc", code=CODE)
