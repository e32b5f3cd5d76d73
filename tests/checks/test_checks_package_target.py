"""checks.package_target: a function runs the runtime and architecture its package was built for."""

import pytest

from lambda_patterns.checks.package_target import check_package_target
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.PackageTarget"


@pytest.mark.parametrize(("runtime", "architecture"), [("python3.14", "arm64"), ("python3.12", "x86_64")])
def test_accepts_the_packages_own_target(runtime, architecture):
    check_package_target("W", runtime, architecture, runtime, architecture)


@pytest.mark.parametrize(("runtime", "architecture"), [("python3.12", "arm64"), ("python3.14", "x86_64")])
def test_refuses_another_runtime_or_architecture(runtime, architecture):
    error = refusal(check_package_target, "W", "python3.14", "arm64", runtime, architecture)

    assert (error.code, str(error)) == (
        CODE,
        f"W: the package was built for python3.14/arm64 but the function runs {runtime}/{architecture}",
    )
