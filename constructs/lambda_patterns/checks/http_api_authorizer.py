"""An HTTP API's JWT settings (a user pool client, OAuth scopes) need the user pool they belong to: without
it routes are authorized with IAM, and the settings would be silently ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.HttpApi.Authorizer"


def check_jwt_settings(
    where: str, user_pool: Any, user_pool_client: Any, scopes: Sequence[str] | None
) -> None:
    if user_pool is None and (user_pool_client is not None or scopes):
        raise ConfigurationError(
            f"{where}: user_pool_client and authorization_scopes need user_pool (JWT authorization); without "
            "it routes are authorized with IAM",
            code=CODE,
        )
