"""A stream's tumbling window lasts at most 900 seconds (15 minutes)."""

from __future__ import annotations

from aws_cdk import Duration

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.jsii_reads import seconds_of

CODE = "LambdaPatterns.Stream.TumblingWindow"


def check_tumbling_window(where: str, tumbling_window: Duration | None) -> None:
    """``None``: no windows."""
    if tumbling_window is not None and not 0 <= seconds_of(tumbling_window) <= 900:
        raise ConfigurationError(f"{where}: tumbling_window must be at most 900 seconds", code=CODE)
