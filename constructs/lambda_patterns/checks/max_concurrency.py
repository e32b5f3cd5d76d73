"""An SQS event source's maximum concurrency is 2 to 1,000 invocations, when it is set."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Sqs.MaxConcurrency"


def check_max_concurrency(where: str, max_concurrency: int | None) -> None:
    """``None``: no limit."""
    if max_concurrency is not None and not 2 <= max_concurrency <= 1000:
        raise ConfigurationError(
            f"{where}: max_concurrency must be between 2 and 1,000, got {max_concurrency}", code=CODE
        )
