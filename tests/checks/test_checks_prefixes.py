"""checks.prefixes: whether two S3 key filters can match the same key (the recursion check's helper)."""

import pytest

from lambda_patterns.checks.prefixes import prefixes_overlap


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (None, None, True),
        (None, "in/", True),
        ("", "in/", True),
        ("in/", "in/", True),
        ("in/", "in/thumbs/", True),
        ("in/thumbs/", "in/", True),
        ("in/", "out/", False),
        ("in", "input/", True),
        ("in/", "input/", False),
    ],
)
def test_prefixes_overlap_when_some_key_starts_with_both(a, b, overlap):
    assert prefixes_overlap(a, b) is overlap
