"""A Lambda timeout must lie between 1 and 900 seconds; CloudFormation would only fail at deploy time."""

from __future__ import annotations

from aws_cdk import Duration, Token

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.jsii_reads import seconds_of

CODE = "LambdaPatterns.Function.Timeout"


def check_timeout(timeout: Duration, where: str) -> None:
    if Token.is_unresolved(seconds_of(timeout)):
        return
    seconds = seconds_of(timeout)
    if not defaults.TIMEOUT_MIN_S <= seconds <= defaults.TIMEOUT_MAX_S:
        raise ConfigurationError(
            f"{where}: timeout must be between {defaults.TIMEOUT_MIN_S} and {defaults.TIMEOUT_MAX_S} seconds "
            f"(Lambda's limit), got {seconds:g} seconds",
            code=CODE,
        )
