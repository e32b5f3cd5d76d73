"""checks.acknowledgement_rules: an acknowledgement names a rule, and only checkov checks of known type."""

import pytest

from lambda_patterns.checks.acknowledgement_rules import check_acknowledgement_rules
from test_checks_support import refusal

CODE = "LambdaPatterns.Nag.UnknownRule"
KNOWN = {"CKV_AWS_27", "CKV_AWS_116"}
REASON = "The dead-letter queue of the orders queue"


@pytest.mark.parametrize(
    ("nag", "checkov"),
    [(["AwsSolutions-SQS3"], []), ([], ["CKV_AWS_27"]), (["Serverless-LambdaDLQ"], ["CKV_AWS_116"])],
)
def test_accepts_named_rules_and_known_checks(nag, checkov):
    check_acknowledgement_rules(nag, checkov, KNOWN, REASON)


def test_refuses_an_acknowledgement_of_nothing():
    error = refusal(check_acknowledgement_rules, [], [], KNOWN, REASON)

    assert (error.code, str(error)) == (
        CODE,
        f"acknowledgement {REASON!r} names no cdk-nag rule and no checkov check",
    )


def test_refuses_a_checkov_check_of_unknown_resource_type():
    error = refusal(check_acknowledgement_rules, [], ["CKV_AWS_27", "CKV_AWS_999"], KNOWN, REASON)

    assert (error.code, str(error)) == (
        CODE,
        "acknowledgement of CKV_AWS_999: no resource type is known for this checkov check; "
        "add it to lambda_patterns.nag.CHECKOV_RESOURCE_TYPES",
    )
