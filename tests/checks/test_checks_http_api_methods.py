"""checks.http_api_methods: routes name methods API Gateway v2 knows."""

import pytest

from lambda_patterns.checks.http_api_methods import check_route_methods
from test_checks_support import verdict

KNOWN = {"GET", "POST", "ANY"}


@pytest.mark.parametrize(
    ("names", "refusal"),
    [
        (["GET"], None),
        (["get", "POST"], None),
        (["ANY"], None),
        ([], "W: unknown HTTP methods [] (one or more of ANY, GET, POST)"),
        (["FETCH"], "W: unknown HTTP methods ['FETCH'] (one or more of ANY, GET, POST)"),
    ],
)
def test_route_methods(names, refusal):
    expected = None if refusal is None else ("LambdaPatterns.HttpApi.Methods", refusal)
    assert verdict(check_route_methods, "W", names, KNOWN) == expected
