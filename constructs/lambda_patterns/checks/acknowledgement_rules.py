"""An acknowledgement names at least one rule, and each checkov check it names has a known resource type:
its skip is written on the resources of that type only, so an unknown check would silently skip nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Nag.UnknownRule"


def check_acknowledgement_rules(
    nag: Sequence[str], checkov: Sequence[str], known_checkov: Collection[str], reason: str
) -> None:
    if not nag and not checkov:
        raise ConfigurationError(
            f"acknowledgement {reason!r} names no cdk-nag rule and no checkov check", code=CODE
        )
    unknown = [c for c in checkov if c not in known_checkov]
    if unknown:
        raise ConfigurationError(
            f"acknowledgement of {', '.join(unknown)}: no resource type is known for this checkov check; "
            "add it to lambda_patterns.nag.CHECKOV_RESOURCE_TYPES",
            code=CODE,
        )
