"""How long analytics items (aggregates, counts) are kept after their time bucket: 0 keeps them."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Analytics.RetentionDays"


def check_retention_days(where: str, retention_days: int) -> None:
    if retention_days < 0:
        raise ConfigurationError(
            f"{where}: retention_days must be 0 (keep) or more, got {retention_days}", code=CODE
        )
