"""An alarm topic is only notified by the function's alarms: giving one without ``alarms`` is a mistake."""

from __future__ import annotations

from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.AlarmTopic"


def check_alarm_topic(where: str, alarm_topic: Any, alarms: bool) -> None:
    if alarm_topic is not None and not alarms:
        raise ConfigurationError(f"{where}: alarm_topic has no use with alarms=False", code=CODE)
