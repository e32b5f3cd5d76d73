"""An HTTP API route names one or more HTTP methods API Gateway v2 knows (``ANY`` included)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.HttpApi.Methods"


def check_route_methods(where: str, names: Sequence[str], known: Collection[str]) -> None:
    unknown = [name for name in names if name.upper() not in known]
    if unknown or not names:
        raise ConfigurationError(
            f"{where}: unknown HTTP methods {unknown or list(names)!r} (one or more of "
            f"{', '.join(sorted(known))})",
            code=CODE,
        )
