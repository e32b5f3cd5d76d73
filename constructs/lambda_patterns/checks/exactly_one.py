"""Of two props that each say where the construct's input comes from, exactly one must be given."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Props.ExactlyOne"


def check_exactly_one(where: str, first_name: str, first: Any, second_name: str, second: Any) -> None:
    """Raise when both ``first`` and ``second`` are given, or neither (``None`` means not given)."""
    if (first is None) == (second is None):
        raise ConfigurationError(f"{where}: give exactly one of {first_name} or {second_name}", code=CODE)
