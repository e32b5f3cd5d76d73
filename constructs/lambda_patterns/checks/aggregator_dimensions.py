"""A stream aggregator groups by at least one attribute; the handler reads ``DIMENSIONS`` comma-separated,
so no name may contain a comma."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Aggregator.Dimensions"


def check_dimensions(where: str, dimensions: Sequence[str]) -> None:
    if not dimensions or any(not d or "," in d for d in dimensions):
        raise ConfigurationError(
            f"{where}: dimensions must name at least one attribute, without commas", code=CODE
        )
