"""A function built from a ``FunctionPackage`` must run the runtime and architecture the package was built
for: its wheels and ``.so`` files were chosen for that target only."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Function.PackageTarget"


def check_package_target(
    where: str, package_runtime: str, package_architecture: str, runtime: str, architecture: str
) -> None:
    """Runtimes and architectures by name (``python3.14``, ``arm64``)."""
    if package_runtime != runtime or package_architecture != architecture:
        raise ConfigurationError(
            f"{where}: the package was built for {package_runtime}/{package_architecture} "
            f"but the function runs {runtime}/{architecture}",
            code=CODE,
        )
