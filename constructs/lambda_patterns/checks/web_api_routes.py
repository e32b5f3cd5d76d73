"""A web API's ``routes`` name known routes, their methods among each route's, and enable at least one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.Routes"


def check_routes(
    where: str, routes: Mapping[str, Sequence[str]], allowed: Mapping[str, Sequence[str]]
) -> None:
    """``allowed``: every route and its methods, e.g. ``defaults.WEB_API_ROUTES``."""
    unknown = sorted(set(routes) - set(allowed))
    if unknown:
        raise ConfigurationError(
            f"{where}: routes keys must be among {sorted(allowed)}, got {unknown}", code=CODE
        )
    for name, methods in routes.items():
        bad = [method for method in methods if method not in allowed[name]]
        if bad:
            raise ConfigurationError(
                f"{where}: routes[{name!r}] methods must be among {allowed[name]}, got {bad}", code=CODE
            )
    if not any(routes.values()):
        raise ConfigurationError(f"{where}: routes must enable at least one method", code=CODE)
