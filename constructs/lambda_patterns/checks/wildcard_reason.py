"""A ``*`` in an explicit statement's actions or resources needs a reason: it becomes the cdk-nag
acknowledgement, so that every wildcard in a policy says why it is there."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Permissions.WildcardReason"


def check_wildcard_reason(wildcards: Sequence[str], reason: str | None) -> None:
    """``wildcards``: cdk-nag's spelling of each, ``Action::<action>`` or ``Resource::<arn>``."""
    if wildcards and not reason:
        raise ConfigurationError(
            f"allow(): {', '.join(w.split('::', 1)[1] for w in wildcards)} contains a wildcard; "
            "pass reason='...' to say why it is needed",
            code=CODE,
        )
