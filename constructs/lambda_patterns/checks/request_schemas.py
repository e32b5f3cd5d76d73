"""Each request schema names a route of the API (``"METHOD /path"``) and applies to at least one media type:
a schema that matches nothing would validate nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Api.RequestSchemas"


def check_request_schemas(
    where: str, routes: Collection[str], schema_routes: Collection[str], content_types: Sequence[str]
) -> None:
    """``routes`` and ``schema_routes``: the API's routes and the schemas' routes, keyed alike."""
    problem = _problem(routes, schema_routes, content_types)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(
    routes: Collection[str], schema_routes: Collection[str], content_types: Sequence[str]
) -> str | None:
    unknown = sorted(set(schema_routes) - set(routes))
    if unknown:
        return f"request_schemas names {unknown}, which are not among the routes {sorted(routes)}"
    if schema_routes and not content_types:
        return "request_schemas need at least one request_content_types entry"
    return None
