"""The aws-cdk-lib this library needs, checked before the first construct loads so that an old one fails
with a message naming the version required instead of an AttributeError deep inside a module."""

from __future__ import annotations

import importlib.metadata
import re

#: The declared floor; tests/test_compat.py keeps it equal to pyproject.toml's and installs it.
MIN_AWS_CDK_LIB = "2.269.0"


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def installed_aws_cdk_lib() -> str | None:
    try:
        return importlib.metadata.version("aws-cdk-lib")
    except importlib.metadata.PackageNotFoundError:
        return None


def require_aws_cdk_lib(installed: str | None = None) -> None:
    """ImportError naming the required version when aws-cdk-lib is missing or older than the floor."""
    installed = installed if installed is not None else installed_aws_cdk_lib()
    wanted = f"aws-cdk-lib>={MIN_AWS_CDK_LIB},<3"
    if installed is None:
        raise ImportError(f"lambda-patterns needs {wanted}, which is not installed: pip install '{wanted}'")
    if _release(installed) < _release(MIN_AWS_CDK_LIB):
        raise ImportError(
            f"lambda-patterns needs {wanted}, but aws-cdk-lib {installed} is installed: pip install '{wanted}'"
        )
