"""Lambda processes 1 to 10 batches of one shard at a time (``parallelization_factor``)."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Stream.ParallelizationFactor"


def check_parallelization_factor(where: str, parallelization_factor: int) -> None:
    if not 1 <= parallelization_factor <= 10:
        raise ConfigurationError(f"{where}: parallelization_factor must be between 1 and 10", code=CODE)
