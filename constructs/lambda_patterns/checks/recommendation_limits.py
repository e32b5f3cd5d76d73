"""The recommendations API's limits: a default of at least one, and a maximum at least the default and at
most what one Query page of pairs can rank (1,000)."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Recommendations.Limits"
MAX = 1000


def check_recommendation_limits(where: str, default_limit: int, max_limit: int) -> None:
    for name, value in (("default_limit", default_limit), ("max_limit", max_limit)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX:
            raise ConfigurationError(
                f"{where}: {name} must be a whole number from 1 to {MAX}, got {value!r}", code=CODE
            )
    if default_limit > max_limit:
        raise ConfigurationError(
            f"{where}: default_limit {default_limit} is above max_limit {max_limit}", code=CODE
        )
