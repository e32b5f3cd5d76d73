"""The input caps of a thumbnail pipeline (declared pixels, object bytes) must admit some image."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Thumbnail.InputCaps"


def check_input_caps(where: str, max_pixels: int, max_bytes: int) -> None:
    if max_pixels < 1 or max_bytes < 1:
        raise ConfigurationError(f"{where}: max_pixels and max_bytes must be positive", code=CODE)
