"""Lambda memory must lie between 128 and 10,240 MB."""

from __future__ import annotations

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.Memory"


def check_memory(memory_mb: int, where: str) -> None:
    if not defaults.MEMORY_MIN_MB <= memory_mb <= defaults.MEMORY_MAX_MB:
        raise ConfigurationError(
            f"{where}: memory_size must be between {defaults.MEMORY_MIN_MB} and {defaults.MEMORY_MAX_MB} MB "
            f"(Lambda's limit), got {memory_mb} MB",
            code=CODE,
        )
