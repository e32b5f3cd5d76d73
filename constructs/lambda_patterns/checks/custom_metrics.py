"""A dashboard's custom metrics name their namespace and at least one metric: otherwise there is nothing
to graph."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Monitoring.CustomMetrics"


def check_custom_metrics(where: str, namespace: str, names: Sequence[str]) -> None:
    if not namespace or not names:
        raise ConfigurationError(
            f"{where}: custom metrics need a namespace and at least one metric name", code=CODE
        )
