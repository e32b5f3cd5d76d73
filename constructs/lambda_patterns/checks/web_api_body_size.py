"""A web API's ``max_body_bytes`` is at least 1 and at most API Gateway's own payload limit, which the
handler also enforces at cold start."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.MaxBodyBytes"
#: API Gateway refuses larger payloads before the function runs.
MAX_BODY_BYTES = 10 * 1024 * 1024


def check_max_body_bytes(where: str, max_body_bytes: int) -> None:
    if not 1 <= max_body_bytes <= MAX_BODY_BYTES:
        raise ConfigurationError(
            f"{where}: max_body_bytes must be between 1 and {MAX_BODY_BYTES}, got {max_body_bytes}", code=CODE
        )
