"""Synth-time checks, one per module, each a small pure function that raises ``ConfigurationError``."""

from lambda_patterns.checks.exclusive import check_exclusive
from lambda_patterns.checks.memory import check_memory
from lambda_patterns.checks.overrides import check_function_props
from lambda_patterns.checks.prefixes import prefixes_overlap
from lambda_patterns.checks.recursion import check_no_self_trigger
from lambda_patterns.checks.timeout import check_timeout

__all__ = [
    "check_exclusive",
    "check_function_props",
    "check_memory",
    "check_no_self_trigger",
    "check_timeout",
    "prefixes_overlap",
]
