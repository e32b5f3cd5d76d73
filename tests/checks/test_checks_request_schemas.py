"""checks.request_schemas: each schema names a route, and applies to some media type."""

import pytest

from lambda_patterns.checks.request_schemas import check_request_schemas
from test_checks_support import refusal

CODE = "LambdaPatterns.Api.RequestSchemas"
ROUTES = {"GET /items", "POST /items"}
JSON = ("application/json",)


@pytest.mark.parametrize(
    ("schema_routes", "content_types"), [(set(), JSON), (set(), ()), ({"POST /items"}, JSON), (ROUTES, JSON)]
)
def test_accepts_schemas_of_the_apis_routes(schema_routes, content_types):
    check_request_schemas("W", ROUTES, schema_routes, content_types)


@pytest.mark.parametrize(
    ("schema_routes", "content_types", "message"),
    [
        (
            {"PUT /items", "POST /items"},
            JSON,
            "W: request_schemas names ['PUT /items'], which are not among the routes ['GET /items', 'POST /items']",
        ),
        ({"POST /items"}, (), "W: request_schemas need at least one request_content_types entry"),
    ],
)
def test_refuses_schemas_that_validate_nothing(schema_routes, content_types, message):
    error = refusal(check_request_schemas, "W", ROUTES, schema_routes, content_types)

    assert (error.code, str(error)) == (CODE, message)
