"""JPEG and WebP quality is 1 to 100, as Pillow's encoders and the thumbnail handler take it."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Thumbnail.Quality"
MIN_QUALITY = 1
MAX_QUALITY = 100


def check_thumbnail_quality(where: str, quality: int) -> None:
    if not MIN_QUALITY <= quality <= MAX_QUALITY:
        raise ConfigurationError(
            f"{where}: quality must be between {MIN_QUALITY} and {MAX_QUALITY}, got {quality}", code=CODE
        )
