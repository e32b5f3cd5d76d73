"""A stage's throttling rate and burst must be positive: zero would refuse every request."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Api.Throttle"


def check_throttle(where: str, rate_limit: float, burst_limit: int) -> None:
    if rate_limit <= 0 or burst_limit <= 0:
        raise ConfigurationError(f"{where}: throttle limits must be positive", code=CODE)
