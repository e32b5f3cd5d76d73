"""The ``lambda-patterns:bytecode`` context turns ``FunctionPackage(bytecode=...)`` on for a whole app."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.BytecodeContext"
_VALUES = {True: True, False: False, "true": True, "false": False}


def check_bytecode_context(where: str, key: str, value: Any) -> bool:
    """The context's value as a flag: absent is False; ``true``/``false`` (the strings ``cdk synth -c``
    passes, or JSON booleans from cdk.json); anything else is an error rather than a guess."""
    if value is None:
        return False
    normalized = value.strip().lower() if isinstance(value, str) else value
    if isinstance(normalized, (bool, str)) and normalized in _VALUES:
        return _VALUES[normalized]
    raise ConfigurationError(
        f"{where}: the context {key} is {value!r}; it takes true or false (cdk synth -c {key}=true)",
        code=CODE,
    )
