"""A queue's redrive policy moves a message to its dead-letter queue after 1 to 1,000 receives."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Sqs.MaxReceiveCount"


def check_max_receive_count(where: str, max_receive_count: int) -> None:
    if not 1 <= max_receive_count <= 1000:
        raise ConfigurationError(
            f"{where}: max_receive_count must be between 1 and 1,000, got {max_receive_count}", code=CODE
        )
