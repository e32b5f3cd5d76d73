"""A web API's collection is one API Gateway path part, since the handler routes on that one segment."""

from __future__ import annotations

import re

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.ResourceName"
# API Gateway path parts: letters, digits and a few marks.
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9._-]+")


def check_resource_name(where: str, resource_name: str) -> None:
    if not _RESOURCE_NAME.fullmatch(resource_name):
        raise ConfigurationError(
            f"{where}: resource_name must be one path segment of letters, digits, '.', '_' or '-', "
            f"got {resource_name!r}",
            code=CODE,
        )
