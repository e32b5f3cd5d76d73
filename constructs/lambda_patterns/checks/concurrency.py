"""Reserved and provisioned concurrency must be counts Lambda accepts, provisioned within reserved."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.Concurrency"


def check_concurrency(where: str, reserved: int | None, provisioned: int | None) -> None:
    """``None``: not set."""
    problem = _problem(reserved, provisioned)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(reserved: int | None, provisioned: int | None) -> str | None:
    if reserved is not None and reserved < 0:
        return f"reserved_concurrency must be 0 or more, got {reserved}"
    if provisioned is not None and provisioned < 1:
        return f"provisioned_concurrency must be 1 or more, got {provisioned}"
    if reserved is not None and provisioned is not None and provisioned > reserved:
        return f"provisioned_concurrency ({provisioned}) cannot exceed reserved_concurrency ({reserved})"
    return None
