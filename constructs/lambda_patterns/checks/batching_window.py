"""Lambda refuses an SQS batch larger than 10 messages without a batching window of at least 1 second."""

from __future__ import annotations

from aws_cdk import Duration

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.jsii_reads import seconds_of

CODE = "LambdaPatterns.Sqs.BatchingWindow"


def check_batching_window(where: str, batch_size: int, max_batching_window: Duration) -> None:
    if batch_size > 10 and seconds_of(max_batching_window) < 1:
        raise ConfigurationError(
            f"{where}: batch_size {batch_size} needs a max_batching_window of at least 1 second "
            f"(Lambda refuses a larger batch than 10 without one), got {seconds_of(max_batching_window):g} s",
            code=CODE,
        )
