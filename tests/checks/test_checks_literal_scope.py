"""checks.literal_scope: the names that scope a grant (key prefix, index, metrics namespace) are literal."""

import pytest

from lambda_patterns.checks.literal_scope import (
    check_literal_index,
    check_literal_namespace,
    check_literal_prefix,
)
from test_checks_support import refusal

CODE = "LambdaPatterns.Permissions.LiteralScope"


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (check_literal_prefix, None),
        (check_literal_prefix, ""),
        (check_literal_prefix, "uploads/in/"),
        (check_literal_index, "by-customer"),
        (check_literal_namespace, "LambdaPatterns/Thumbnails"),
    ],
)
def test_accepts_literal_names(check, value):
    check(value)


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (
            check_literal_prefix,
            "in/*",
            "S3 key prefix 'in/*' must be literal: wildcards would widen the grant",
        ),
        (
            check_literal_prefix,
            "in?/",
            "S3 key prefix 'in?/' must be literal: wildcards would widen the grant",
        ),
        (check_literal_index, "*", "query_items(): index name '*' must be literal"),
        (check_literal_index, "by-?", "query_items(): index name 'by-?' must be literal"),
        (check_literal_index, "", "query_items(): index name '' must be literal"),
        (check_literal_namespace, "App/*", "metrics namespace 'App/*' must be a literal name"),
        (check_literal_namespace, "", "metrics namespace '' must be a literal name"),
    ],
)
def test_refuses_wildcards_and_empty_names(check, value, message):
    error = refusal(check, value)

    assert (error.code, str(error)) == (CODE, message)
