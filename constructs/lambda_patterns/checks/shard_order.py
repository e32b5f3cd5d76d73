"""An exactly-once stream consumer processes each shard in order: one batch at a time per shard.

Its guard (per-shard sequence-number marks) assumes that order; a parallelization factor above 1 lets
Lambda process several batches of one shard at once, out of order.
"""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Analytics.ShardOrder"


def check_shard_order(where: str, parallelization_factor: int) -> None:
    if parallelization_factor != 1:
        raise ConfigurationError(
            f"{where}: parallelization_factor must stay 1: the exactly-once guard relies on per-shard order",
            code=CODE,
        )
