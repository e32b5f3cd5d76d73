"""JSON logs with the Lambda request id and a cold-start flag, in the shape Powertools Logger writes."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextlib import contextmanager

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_STATE: dict[str, Any] = {"cold_start": True, "request_id": None, "function_name": None}


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the moment of writing, not the one seen at import time:
    a runtime or test harness that swaps stdout still receives every line."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class _JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "service": self._service,
            "message": record.getMessage(),
            "cold_start": _STATE["cold_start"],
            "function_request_id": _STATE["request_id"],
        }
        if _STATE["function_name"]:
            entry["function_name"] = _STATE["function_name"]
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def get_logger(service: str | None = None) -> logging.Logger:
    """A logger writing one JSON object per line to stdout, where Lambda sends it to CloudWatch Logs."""
    name = (
        service or os.environ.get("SERVICE_NAME") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "handler"
    )
    logger = logging.getLogger(f"lambda_patterns.{name}")
    if not logger.handlers:
        handler = logging.StreamHandler(_CurrentStdout())
        handler.setFormatter(_JsonFormatter(name))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    return logger


@contextmanager
def log_context(context: Any):
    """Stamp every log line inside the block with the invocation's request id; the first one is the cold start."""
    _STATE["request_id"] = getattr(context, "aws_request_id", None)
    _STATE["function_name"] = getattr(context, "function_name", None)
    try:
        yield
    finally:
        _STATE["cold_start"] = False
        _STATE["request_id"] = None
