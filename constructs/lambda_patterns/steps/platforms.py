"""Pure functions that map a Lambda runtime and architecture to Python wheel tags."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

from lambda_patterns import defaults
from lambda_patterns.jsii_reads import name_of

_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}


def runtime_python_version(runtime: lambda_.Runtime) -> str:
    """``python3.14`` -> ``3.14``; a clear error for a runtime that is not Python."""
    name = name_of(runtime)
    if not name.startswith("python3."):
        raise ValueError(f"FunctionPackage bundles Python only; runtime {name!r} is not a Python runtime")
    return name.removeprefix("python")


def architecture_name(architecture: lambda_.Architecture | str) -> str:
    """``Architecture.ARM_64`` or ``"arm64"`` -> ``"arm64"``."""
    name = architecture if isinstance(architecture, str) else name_of(architecture)
    if name not in _MACHINE:
        raise ValueError(f"unknown Lambda architecture {name!r}; expected one of {sorted(_MACHINE)}")
    return name


def machine(architecture: lambda_.Architecture | str) -> str:
    """The machine part of a manylinux tag: ``aarch64`` or ``x86_64``."""
    return _MACHINE[architecture_name(architecture)]


def platform_tags(python_version: str, architecture: lambda_.Architecture | str) -> list[str]:
    """The manylinux tags Lambda accepts for this runtime: manylinux_2_28 only on Amazon Linux 2023 ones."""
    minor = int(python_version.split(".")[1])
    tags = [t for t in defaults.MANYLINUX_TAGS if t != "manylinux_2_28" or minor >= 12]
    return [f"{tag}_{machine(architecture)}" for tag in tags]


def max_glibc(python_version: str) -> tuple[int, int]:
    """The newest glibc a wheel may need on this runtime: what ``platform_tags`` lets pip choose.

    ``manylinux2014`` stands for glibc 2.17 (PEP 599); ``manylinux_2_28`` for 2.28 (PEP 600).
    """
    newest = (0, 0)
    for tag in platform_tags(python_version, "x86_64"):
        if tag.startswith("manylinux2014_"):
            newest = max(newest, (2, 17))
        else:
            major, minor = tag.removeprefix("manylinux_").split("_")[:2]
            newest = max(newest, (int(major), int(minor)))
    return newest


def pip_platform_args(python_version: str, architecture: lambda_.Architecture | str) -> list[str]:
    """``--platform`` once per tag of ``platform_tags``: pip accepts any of them, and older glibc too."""
    args: list[str] = []
    for tag in platform_tags(python_version, architecture):
        args += ["--platform", tag]
    return args
