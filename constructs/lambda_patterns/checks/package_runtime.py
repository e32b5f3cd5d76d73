"""``FunctionPackage`` builds for a Python runtime on arm64 or x86_64: it picks wheels by their tags."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.platforms import architecture_name, runtime_python_version

CODE = "LambdaPatterns.Package.Runtime"


def check_package_runtime(
    where: str, runtime: lambda_.Runtime, architecture: lambda_.Architecture | str
) -> None:
    """What ``platforms`` refuses to map to wheel tags, as a ``ConfigurationError`` naming the package."""
    try:
        runtime_python_version(runtime)
        architecture_name(architecture)
    except ValueError as error:
        raise ConfigurationError(f"{where}: {error}", code=CODE) from error
