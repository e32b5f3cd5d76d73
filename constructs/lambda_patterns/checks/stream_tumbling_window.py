"""A stream's tumbling window lasts at most 900 seconds (15 minutes)."""

from __future__ import annotations

from aws_cdk import Duration

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Stream.TumblingWindow"


def check_tumbling_window(where: str, tumbling_window: Duration | None) -> None:
    """``None``: no windows."""
    if tumbling_window is not None and not 0 <= tumbling_window.to_seconds() <= 900:
        raise ConfigurationError(f"{where}: tumbling_window must be at most 900 seconds", code=CODE)
