"""``function_props`` may not set what a use-case construct sets itself: say so, rather than letting Python
report "got multiple values for keyword argument"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Props.FunctionProps"


def check_function_props(where: str, function_props: Mapping[str, Any] | None, owned: Iterable[str]) -> None:
    clash = sorted(set(function_props or {}) & set(owned))
    if clash:
        raise ConfigurationError(
            f"{where}: function_props cannot set {', '.join(clash)}: this construct sets "
            f"{'it' if len(clash) == 1 else 'them'} itself (use its own props, e.g. memory_size, where it has them)",
            code=CODE,
        )
