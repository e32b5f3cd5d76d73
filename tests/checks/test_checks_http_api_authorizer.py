"""checks.http_api_authorizer: JWT settings need their user pool."""

import pytest

from lambda_patterns.checks.http_api_authorizer import check_jwt_settings
from test_checks_support import verdict

POOL, CLIENT = object(), object()
REFUSAL = (
    "LambdaPatterns.HttpApi.Authorizer",
    "W: user_pool_client and authorization_scopes need user_pool (JWT authorization); without it routes are "
    "authorized with IAM",
)


@pytest.mark.parametrize(
    ("pool", "client", "scopes", "refused"),
    [
        (None, None, None, False),
        (POOL, CLIENT, ["read"], False),
        (POOL, None, None, False),
        (None, CLIENT, None, True),
        (None, None, ["read"], True),
    ],
)
def test_jwt_settings(pool, client, scopes, refused):
    assert verdict(check_jwt_settings, "W", pool, client, scopes) == (REFUSAL if refused else None)
