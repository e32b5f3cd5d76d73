"""A traffic shift CodeDeploy can run: a canary or linear step of 1 to 99 percent, every 1 to 2,880 minutes
(CodeDeploy's limits for a custom Lambda configuration), checked at synth rather than at deployment."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Deployment.Shift"
KINDS = ("all_at_once", "canary", "linear")
MAX_MINUTES = 2880


def check_traffic_shift(where: str, kind: str, percent: int, minutes: int) -> None:
    problem = _problem(kind, percent, minutes)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(kind: str, percent: int, minutes: int) -> str | None:
    if kind not in KINDS:
        return f"deployment kind must be one of {KINDS}, got {kind!r}"
    if kind == "all_at_once":
        return None
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 99:
        return f"a {kind} deployment moves 1 to 99 percent of traffic per step, got {percent!r}"
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        return f"a {kind} deployment waits 1 to {MAX_MINUTES} whole minutes per step, got {minutes!r}"
    return None
