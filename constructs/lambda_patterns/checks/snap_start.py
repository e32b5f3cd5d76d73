"""SnapStart's own limits, checked so that they fail the synth rather than the deployment: a runtime that
has SnapStart (Python 3.12 or newer), and no provisioned concurrency on the same version."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.SnapStart"


def check_snap_start(where: str, snap_start: bool, runtime: lambda_.Runtime, provisioned: int | None) -> None:
    problem = _problem(runtime, provisioned) if snap_start else None
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(runtime: lambda_.Runtime, provisioned: int | None) -> str | None:
    if not runtime.supports_snap_start:
        return f"snap_start needs a runtime with SnapStart (Python 3.12 or newer); {runtime.name} has none"
    if provisioned is not None:
        return (
            "snap_start and provisioned_concurrency cannot be combined (Lambda supports one or the "
            "other on a version); choose SnapStart for cheaper, provisioned concurrency for the lowest latency"
        )
    return None
