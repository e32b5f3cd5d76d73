"""checks.exclusive: an existing resource or props for a new one, never both."""

import pytest

from lambda_patterns.checks.exclusive import check_exclusive
from test_checks_support import refusal

CODE = "LambdaPatterns.Props.Exclusive"


@pytest.mark.parametrize(("existing", "props"), [(None, None), ("queue", None), (None, {}), (None, {"a": 1})])
def test_accepts_at_most_one(existing, props):
    check_exclusive("W", "existing_queue_obj", existing, "queue_props", props)


@pytest.mark.parametrize(("existing", "props"), [("queue", {}), ("queue", {"visibility_timeout": 30})])
def test_refuses_both(existing, props):
    error = refusal(check_exclusive, "W", "existing_queue_obj", existing, "queue_props", props)

    assert (error.code, str(error)) == (
        CODE,
        "W: pass either existing_queue_obj or queue_props, not both (queue_props configures a resource this "
        "construct creates; existing_queue_obj replaces it)",
    )
