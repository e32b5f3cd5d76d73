"""checks.package_runtime: FunctionPackage builds Python on arm64 or x86_64."""

import pytest
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.checks.package_runtime import check_package_runtime
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.Runtime"


@pytest.mark.parametrize(
    ("runtime", "architecture"),
    [
        (lambda_.Runtime.PYTHON_3_14, lambda_.Architecture.ARM_64),
        (lambda_.Runtime.PYTHON_3_12, lambda_.Architecture.X86_64),
        (lambda_.Runtime.PYTHON_3_13, "arm64"),
    ],
)
def test_accepts_python_on_lambdas_architectures(runtime, architecture):
    check_package_runtime("W", runtime, architecture)


@pytest.mark.parametrize(
    ("runtime", "architecture", "message"),
    [
        (
            lambda_.Runtime.NODEJS_22_X,
            lambda_.Architecture.ARM_64,
            "W: FunctionPackage bundles Python only; runtime 'nodejs22.x' is not a Python runtime",
        ),
        (
            lambda_.Runtime.PYTHON_3_14,
            "riscv64",
            "W: unknown Lambda architecture 'riscv64'; expected one of ['arm64', 'x86_64']",
        ),
    ],
)
def test_refuses_other_runtimes_and_architectures(runtime, architecture, message):
    error = refusal(check_package_runtime, "W", runtime, architecture)

    assert (error.code, str(error)) == (CODE, message)
    assert isinstance(error.__cause__, ValueError)
