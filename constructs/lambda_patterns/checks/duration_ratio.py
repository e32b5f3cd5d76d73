"""The duration alarm fires at a fraction of the timeout, strictly between 0 and 1: at 1 it would fire
only once invocations already time out."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Monitoring.DurationRatio"


def check_duration_ratio(ratio: float) -> None:
    if not 0 < ratio < 1:
        raise ConfigurationError(
            f"duration ratio must be between 0 and 1 (exclusive), got {ratio}", code=CODE
        )
