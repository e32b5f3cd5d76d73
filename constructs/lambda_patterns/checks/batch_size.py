"""An event source mapping reads 1 to 10,000 records (messages) per batch, for SQS and streams alike."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Trigger.BatchSize"


def check_batch_size(where: str, batch_size: int) -> None:
    if not 1 <= batch_size <= 10_000:
        raise ConfigurationError(
            f"{where}: batch_size must be between 1 and 10,000, got {batch_size}", code=CODE
        )
