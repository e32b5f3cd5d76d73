"""checks.profile: only the profiles the library knows."""

import pytest

from lambda_patterns.checks.profile import check_profile
from test_checks_support import verdict

CODE = "LambdaPatterns.Profile.Unknown"
KNOWN = ("standard", "hardened")


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("standard", None),
        ("hardened", None),
        (
            "Hardened",
            (
                CODE,
                "W: profile must be one of ('standard', 'hardened') (prop profile= or context "
                "lambda-patterns:profile), got 'Hardened'",
            ),
        ),
        (
            "",
            (
                CODE,
                "W: profile must be one of ('standard', 'hardened') (prop profile= or context "
                "lambda-patterns:profile), got ''",
            ),
        ),
        (
            True,
            (
                CODE,
                "W: profile must be one of ('standard', 'hardened') (prop profile= or context "
                "lambda-patterns:profile), got True",
            ),
        ),
    ],
)
def test_accepts_known_profiles_and_refuses_others(profile, expected):
    assert verdict(check_profile, "W", profile, KNOWN) == expected
