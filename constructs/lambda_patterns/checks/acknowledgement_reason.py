"""An acknowledged rule-pack finding needs a reason long enough to say which resource it concerns and why
the finding does not apply to it: the reason is what a reviewer of the template reads."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Nag.ShortReason"
#: Shorter than this, a reason cannot name the resource's role and why the finding is accepted.
MIN_REASON_LENGTH = 25


def check_acknowledgement_reason(rules: Sequence[str], reason: str) -> None:
    """``rules``: the cdk-nag rule ids and checkov check ids the reason is given for."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ConfigurationError(
            f"acknowledgement of {', '.join(rules) or 'no rule'}: the reason {reason!r} is shorter than "
            f"{MIN_REASON_LENGTH} characters; say which resource it concerns and why the finding does not "
            "apply to it",
            code=CODE,
        )
