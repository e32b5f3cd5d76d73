"""OAuth scopes are checked by a Cognito authorizer: without ``user_pool`` (IAM authorization) they would be
ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Api.AuthorizationScopes"


def check_authorization_scopes(
    where: str, authorization_scopes: Sequence[str] | None, user_pool: Any
) -> None:
    if authorization_scopes and user_pool is None:
        raise ConfigurationError(f"{where}: authorization_scopes need user_pool", code=CODE)
