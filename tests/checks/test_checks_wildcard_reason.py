"""checks.wildcard_reason: a wildcard in an explicit statement says why it is there."""

import pytest

from lambda_patterns.checks.wildcard_reason import check_wildcard_reason
from test_checks_support import refusal

CODE = "LambdaPatterns.Permissions.WildcardReason"


@pytest.mark.parametrize(
    ("wildcards", "reason"), [([], None), ([], ""), (["Resource::*"], "ListAllMyBuckets has no resource")]
)
def test_accepts_no_wildcard_or_a_reason(wildcards, reason):
    check_wildcard_reason(wildcards, reason)


@pytest.mark.parametrize(
    ("wildcards", "reason", "named"),
    [
        (["Resource::*"], None, "*"),
        (["Action::s3:Get*", "Resource::arn:aws:s3:::b/*"], "", "s3:Get*, arn:aws:s3:::b/*"),
    ],
)
def test_refuses_a_wildcard_without_a_reason(wildcards, reason, named):
    error = refusal(check_wildcard_reason, wildcards, reason)

    assert (error.code, str(error)) == (
        CODE,
        f"allow(): {named} contains a wildcard; pass reason='...' to say why it is needed",
    )
