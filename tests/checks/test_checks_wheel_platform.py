"""checks.wheel_platform: every installed wheel runs on the target."""

import pytest

from lambda_patterns.checks.wheel_platform import check_wheel_platform
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.WheelPlatform"
TARGET = "python3.14 on arm64 (aarch64)"


def test_accepts_a_package_without_problems():
    check_wheel_platform("W", TARGET, [])


@pytest.mark.parametrize(
    ("problems", "listed"),
    [
        (["PIL/_imaging.so is x86_64"], "  - PIL/_imaging.so is x86_64"),
        (["a: tag x", "b.so is x86_64"], "  - a: tag x\n  - b.so is x86_64"),
    ],
)
def test_refuses_a_package_with_any(problems, listed):
    error = refusal(check_wheel_platform, "W", TARGET, problems)

    assert (error.code, str(error)) == (CODE, f"W: the package does not run on {TARGET}:\n{listed}")
