"""A stream aggregator's stream options have a tumbling window (any length).

Without a window Lambda does not name the shard in the event, so every shard would share one high-water
mark and records of one shard below another's mark would be skipped as already applied.
"""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Aggregator.TumblingWindow"


def check_aggregator_window(where: str, tumbling_window: Any) -> None:
    """``tumbling_window``: the ``StreamOptions``' window, a ``Duration`` or ``None``."""
    if tumbling_window is None:
        raise ConfigurationError(
            f"{where}: stream_options needs a tumbling_window (any length, e.g. Duration.seconds(1)): "
            "it makes Lambda name the shard, so sequence-number marks are kept per shard",
            code=CODE,
        )
