"""Synth-time checks, one rule per module: a small pure function that takes plain values and raises
``ConfigurationError`` with the rule's stable ``CODE`` (``LambdaPatterns.<Area>.<Rule>``). docs/checks.md
lists every code, what it refuses and how to fix it.

Import a check from its module (``lambda_patterns.checks.timeout``); the names below are also importable
from ``lambda_patterns.checks`` itself, on first use (PEP 562), so that a construct importing one check does
not load every other, and ``permissions`` can use a check that the recursion check, which reads
permissions, sits beside.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_exclusive": "exclusive",
    "check_function_props": "overrides",
    "check_memory": "memory",
    "check_no_self_trigger": "recursion",
    "check_timeout": "timeout",
    "prefixes_overlap": "prefixes",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_patterns.checks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lambda_patterns.checks.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
