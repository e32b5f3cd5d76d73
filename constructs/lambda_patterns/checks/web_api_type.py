"""A web backend's API is ``rest`` (API Gateway REST API, with request validation) or ``http`` (an HTTP API,
cheaper and faster, without it); REST-only props make no sense with ``http`` and are refused, not ignored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.ApiType"
API_TYPES = ("rest", "http")


def check_api_type(where: str, api_type: str, rest_only: Mapping[str, Any]) -> None:
    """``rest_only``: the REST-only props by name, with what the user passed (None: not given)."""
    if api_type not in API_TYPES:
        raise ConfigurationError(f"{where}: api_type must be one of {API_TYPES}, got {api_type!r}", code=CODE)
    given = sorted(name for name, value in rest_only.items() if value is not None)
    if api_type == "http" and given:
        raise ConfigurationError(
            f"{where}: {', '.join(given)} configure a REST API and do nothing with api_type='http'",
            code=CODE,
        )
