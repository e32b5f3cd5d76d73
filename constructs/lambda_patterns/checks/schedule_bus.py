"""An EventBridge schedule runs on the default event bus: an ``event_bus`` with it would be ignored."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.EventBridge.ScheduleBus"


def check_schedule_bus(where: str, schedule: Any, event_bus: Any) -> None:
    if schedule is not None and event_bus is not None:
        raise ConfigurationError(
            f"{where}: a schedule runs on the default bus; event_bus has no use with it", code=CODE
        )
