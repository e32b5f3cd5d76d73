"""A stream aggregator's time bucket is one the handler knows: minute, hour or day."""

from __future__ import annotations

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Aggregator.Bucket"


def check_bucket(where: str, bucket: str) -> None:
    if bucket not in defaults.AGGREGATE_BUCKETS:
        raise ConfigurationError(
            f"{where}: bucket must be one of {defaults.AGGREGATE_BUCKETS}, got {bucket!r}", code=CODE
        )
