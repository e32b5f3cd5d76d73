"""A thumbnail pipeline writes one of the output formats its handler knows (``auto``, ``webp`` or ``avif``)."""

from __future__ import annotations

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Thumbnail.OutputFormat"


def check_output_format(where: str, output_format: str) -> None:
    if output_format not in defaults.THUMBNAIL_FORMATS:
        raise ConfigurationError(
            f"{where}: output_format must be one of {defaults.THUMBNAIL_FORMATS}, got {output_format!r}",
            code=CODE,
        )
