"""Helpers shared by every handler in lambda_src/: structured logs and CloudWatch Embedded Metric Format.

The folder is copied once into each function package by ``FunctionPackage(shared=[...])``; handlers import
it as ``lambda_common``. It depends on the standard library only, so it adds nothing to cold starts.
"""

from lambda_common.logs import get_logger, log_context
from lambda_common.metrics import Metrics

__all__ = ["Metrics", "get_logger", "log_context"]
