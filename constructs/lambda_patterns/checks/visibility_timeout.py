"""A queue's visibility timeout must be at least the function's timeout: a message still being processed
would otherwise be delivered again, and Lambda refuses such an event source mapping at deploy time."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Sqs.VisibilityTimeout"


def check_visibility_timeout(where: str, visibility_s: float | None, timeout_s: float) -> None:
    """``visibility_s``: the queue's visibility timeout, ``None`` when it cannot be known at synth (an
    imported queue, a token)."""
    if visibility_s is not None and visibility_s < timeout_s:
        raise ConfigurationError(
            f"{where}: the queue's visibility timeout ({visibility_s:g} s) is shorter than the function's "
            f"timeout ({timeout_s:g} s): messages would be delivered twice, and Lambda "
            "refuses such an event source mapping at deploy time",
            code=CODE,
        )
