"""A thumbnail pipeline accepts at least one input format, each one its handler decodes (``INPUT_FORMATS``).

A format kept out on purpose is refused with the reason ``defaults.THUMBNAIL_REFUSED_FORMATS`` gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Thumbnail.InputFormats"


def check_input_formats(where: str, input_formats: Sequence[str]) -> None:
    if isinstance(input_formats, str) or not input_formats:
        raise ConfigurationError(
            f"{where}: input_formats must be a non-empty list of {defaults.THUMBNAIL_INPUT_FORMATS}, "
            f"got {input_formats!r}",
            code=CODE,
        )
    for name in input_formats:
        if name in defaults.THUMBNAIL_INPUT_FORMATS:
            continue
        reason = defaults.THUMBNAIL_REFUSED_FORMATS.get(name) if isinstance(name, str) else None
        why = f": {reason}" if reason else ""
        raise ConfigurationError(
            f"{where}: input_formats cannot include {name!r}{why} (known: {defaults.THUMBNAIL_INPUT_FORMATS})",
            code=CODE,
        )
