"""A web API function's environment fits Lambda's limit (names and values together, 4 KB); its item schema
is the variable that can make it too large. Lambda would refuse it only at deploy time."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Token

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.EnvironmentSize"
#: A token's value is unknown at synth; DynamoDB table names are at most this long.
TOKEN_BYTES = 255


def check_environment_size(where: str, environment: Mapping[str, str]) -> None:
    """``environment``: the function's variables, ``ITEM_SCHEMA`` among them; values may be tokens."""
    size = sum(
        len(name) + (TOKEN_BYTES if Token.is_unresolved(value) else len(value.encode()))
        for name, value in environment.items()
    )
    if size > defaults.LAMBDA_ENVIRONMENT_MAX_BYTES:
        raise ConfigurationError(
            f"{where}: the function's environment would take up to {size} bytes, above Lambda's "
            f"{defaults.LAMBDA_ENVIRONMENT_MAX_BYTES}; ITEM_SCHEMA alone is {len(environment['ITEM_SCHEMA'])} "
            "bytes, so shorten item_schema (drop descriptions, titles)",
            code=CODE,
        )
