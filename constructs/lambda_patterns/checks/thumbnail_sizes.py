"""A thumbnail pipeline makes at least one size, each a whole number of pixels the handler accepts."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Thumbnail.Sizes"
#: The long edges the thumbnail handler accepts in ``SIZES``, in px.
MIN_SIZE = 1
MAX_SIZE = 10_000


def check_thumbnail_sizes(where: str, sizes: Sequence[int]) -> None:
    if not sizes:
        raise ConfigurationError(f"{where}: sizes must name at least one thumbnail size", code=CODE)
    bad = [s for s in sizes if not isinstance(s, int) or not MIN_SIZE <= s <= MAX_SIZE]
    if bad:
        raise ConfigurationError(
            f"{where}: sizes must be whole pixels from {MIN_SIZE} to {MAX_SIZE}, got {bad}", code=CODE
        )
