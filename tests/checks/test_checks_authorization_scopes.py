"""checks.authorization_scopes: OAuth scopes need the Cognito authorizer that checks them."""

import pytest

from lambda_patterns.checks.authorization_scopes import check_authorization_scopes
from test_checks_support import refusal

CODE = "LambdaPatterns.Api.AuthorizationScopes"


@pytest.mark.parametrize(
    ("scopes", "pool"), [(None, None), ([], None), (["items/read"], "pool"), (None, "pool")]
)
def test_accepts_scopes_with_a_user_pool(scopes, pool):
    check_authorization_scopes("W", scopes, pool)


def test_refuses_scopes_without_one():
    error = refusal(check_authorization_scopes, "W", ["items/read"], None)

    assert (error.code, str(error)) == (CODE, "W: authorization_scopes need user_pool")
