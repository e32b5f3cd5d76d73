"""A handler's configuration, read from its environment once at cold start.

Every lookup goes through ``os.environ`` at call time (never a reference kept at import), so whatever
stands in for the environment when the handler module is imported is the one read.
"""

from __future__ import annotations

import logging
import os

from lambda_common.logs import get_logger
from lambda_common.metrics import Metrics


def telemetry(default_service: str) -> tuple[logging.Logger, Metrics]:
    """The handler's logger and metrics, both named by ``SERVICE_NAME`` (else ``default_service``), so its
    log lines and its metrics' ``service`` dimension always agree."""
    service = os.environ.get("SERVICE_NAME", default_service)
    return get_logger(service), Metrics(service=service)


def required(*names: str, meaning: str = "see the module docstring") -> tuple[str, ...]:
    """The values of ``names``, in order. A missing one raises RuntimeError at cold start, naming it: a
    function deployed without it could only fail on every event."""
    try:
        return tuple(os.environ[name] for name in names)
    except KeyError as missing:
        raise RuntimeError(f"{missing.args[0]} is required: {meaning}") from None


def integer(name: str, default: int, *, at_least: int | None = None) -> int:
    """``name`` as an int (``default`` when unset), raised to ``at_least`` when lower."""
    value = int(os.environ.get(name, str(default)))
    return value if at_least is None else max(at_least, value)
