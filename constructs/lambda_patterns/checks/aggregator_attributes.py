"""A stream aggregator needs the attribute it sums and the one that places a row in a time bucket."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Aggregator.Attributes"


def check_aggregated_attributes(where: str, value_attribute: str, time_attribute: str) -> None:
    if not value_attribute or not time_attribute:
        raise ConfigurationError(f"{where}: value_attribute and time_attribute are required", code=CODE)
