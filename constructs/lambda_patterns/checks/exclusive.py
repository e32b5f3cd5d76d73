"""``existing_x_obj`` and ``x_props`` cannot both be given: one reuses a resource, the other makes one."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Props.Exclusive"


def check_exclusive(where: str, existing_name: str, existing: Any, props_name: str, props: Any) -> None:
    if existing is not None and props is not None:
        raise ConfigurationError(
            f"{where}: pass either {existing_name} or {props_name}, not both "
            f"({props_name} configures a resource this construct creates; {existing_name} replaces it)",
            code=CODE,
        )
