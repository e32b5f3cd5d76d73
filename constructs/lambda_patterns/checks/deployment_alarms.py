"""A canary or linear deployment needs an alarm to roll back on: without one CodeDeploy shifts all traffic
on schedule whatever the new version does, a gradual deployment in name only."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Deployment.Alarms"


def check_rollback_alarms(where: str, gradual: bool, alarm_count: int) -> None:
    if gradual and alarm_count == 0:
        raise ConfigurationError(
            f"{where}: a canary or linear deployment rolls back only on alarms, and this function has none; "
            "set alarms=True on the function or pass Deployment.canary(..., alarms=[...])",
            code=CODE,
        )
