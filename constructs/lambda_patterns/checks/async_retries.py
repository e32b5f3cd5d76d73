"""Lambda retries a failed asynchronous event 0, 1 or 2 times; CloudFormation would only fail at deploy."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.AsyncRetries"


def check_async_retries(where: str, retry_attempts: int) -> None:
    if not 0 <= retry_attempts <= 2:
        raise ConfigurationError(
            f"{where}: retry_attempts must be 0, 1 or 2, got {retry_attempts}", code=CODE
        )
