"""checks.web_api_type: ``rest`` or ``http``, and no REST-only props with ``http``."""

import pytest

from lambda_patterns.checks.web_api_type import check_api_type
from test_checks_support import verdict

CODE = "LambdaPatterns.WebApi.ApiType"


@pytest.mark.parametrize(
    ("api_type", "rest_only", "refusal"),
    [
        ("rest", {"rest_api_props": {"description": "x"}}, None),
        ("http", {"rest_api_props": None}, None),
        ("graphql", {}, "W: api_type must be one of ('rest', 'http'), got 'graphql'"),
        (
            "http",
            {"rest_api_props": {}},
            "W: rest_api_props configure a REST API and do nothing with api_type='http'",
        ),
    ],
)
def test_api_type(api_type, rest_only, refusal):
    assert verdict(check_api_type, "W", api_type, rest_only) == (None if refusal is None else (CODE, refusal))
