"""A web API's ``cors_allow_origin`` is ``*`` or one origin: scheme and host, no path, no wildcard."""

from __future__ import annotations

import re

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.CorsOrigin"
_ORIGIN = re.compile(r"https?://[^/\s*]+")


def check_cors_origin(where: str, origin: str | None) -> None:
    """``None``: no CORS, always fine."""
    if origin is not None and origin != "*" and not _ORIGIN.fullmatch(origin):
        raise ConfigurationError(
            f"{where}: cors_allow_origin must be '*' or one origin such as 'https://app.example.com' "
            f"(scheme and host, no path), got {origin!r}",
            code=CODE,
        )
