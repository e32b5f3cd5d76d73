"""Thumbnails go below a folder, ``<destination_prefix><size>/<key>``: the prefix must end in ``/``."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Thumbnail.DestinationPrefix"


def check_destination_prefix(where: str, destination_prefix: str) -> None:
    if not destination_prefix or not destination_prefix.endswith("/"):
        raise ConfigurationError(
            f"{where}: destination_prefix must be a folder ending in '/', got {destination_prefix!r}",
            code=CODE,
        )
