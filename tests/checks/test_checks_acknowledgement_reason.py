"""checks.acknowledgement_reason: a rule-pack acknowledgement's reason has at least 25 characters."""

import pytest

from lambda_patterns.checks.acknowledgement_reason import check_acknowledgement_reason
from test_checks_support import refusal

CODE = "LambdaPatterns.Nag.ShortReason"


@pytest.mark.parametrize(
    "reason",
    ["x" * 25, "The access log bucket cannot log into itself without a loop"],
)
def test_accepts_a_reason_of_25_characters_or_more(reason):
    check_acknowledgement_reason(["AwsSolutions-S1"], reason)


@pytest.mark.parametrize("reason", ["", "ok", "x" * 24, "   short, padded       " + " " * 10])
def test_refuses_a_shorter_reason_naming_the_rules(reason):
    error = refusal(check_acknowledgement_reason, ["AwsSolutions-S1", "CKV_AWS_18"], reason)

    assert (error.code, str(error)) == (
        CODE,
        f"acknowledgement of AwsSolutions-S1, CKV_AWS_18: the reason {reason!r} is shorter than 25 "
        "characters; say which resource it concerns and why the finding does not apply to it",
    )
