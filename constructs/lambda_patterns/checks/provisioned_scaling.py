"""Scaled provisioned concurrency needs a minimum to scale from, and its maximum must lie between that
minimum and the reserved concurrency."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.ProvisionedScaling"


def check_provisioned_scaling(
    where: str, reserved: int | None, provisioned: int | None, provisioned_max: int | None
) -> None:
    """``None``: not set; without ``provisioned_max`` there is nothing to scale."""
    problem = _problem(reserved, provisioned, provisioned_max)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(reserved: int | None, provisioned: int | None, provisioned_max: int | None) -> str | None:
    if provisioned_max is None:
        return None
    if provisioned is None:
        return "provisioned_concurrency_max needs provisioned_concurrency (the minimum it scales from)"
    if provisioned_max < provisioned:
        return (
            f"provisioned_concurrency_max ({provisioned_max}) must be at least "
            f"provisioned_concurrency ({provisioned})"
        )
    if reserved is not None and provisioned_max > reserved:
        return (
            f"provisioned_concurrency_max ({provisioned_max}) cannot exceed reserved_concurrency ({reserved})"
        )
    return None
