"""A web API's ``key_name`` names the table's partition key, and cannot be the attribute the handler keeps
each item's version in."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.KeyName"


def check_key_name(where: str, key_name: str, version_attribute: str) -> None:
    if not key_name:
        raise ConfigurationError(f"{where}: key_name must name the table's partition key", code=CODE)
    if key_name == version_attribute:
        raise ConfigurationError(
            f"{where}: key_name cannot be '{version_attribute}': the handler keeps each item's version there",
            code=CODE,
        )
