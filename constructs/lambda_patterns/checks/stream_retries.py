"""A stream trigger retries a failed batch a bounded number of times, 0 to 10,000: Lambda's ``-1`` (retry
until the record expires) would let one poison record block its shard."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Stream.RetryAttempts"


def check_stream_retries(where: str, retry_attempts: int) -> None:
    problem = _problem(retry_attempts)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(retry_attempts: int) -> str | None:
    if not -1 <= retry_attempts <= 10_000:
        return f"retry_attempts must be between -1 and 10,000, got {retry_attempts}"
    if retry_attempts == -1:
        return "retry_attempts=-1 retries a poison record until it expires and blocks its shard; give a bound"
    return None
