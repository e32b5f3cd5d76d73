"""Every folder or file a package is built from (entry, shared folders, requirements, wheelhouse) exists."""

from __future__ import annotations

from pathlib import Path

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.Path"


def check_path(
    where: str,
    label: str,
    path: Path,
    exists: bool,
    problem: str = "is not a folder",
    hint: str | None = None,
) -> None:
    """Raise unless ``exists`` (the caller's ``is_dir()`` or ``is_file()`` of ``path``): "``<where>``:
    ``<label>`` ``<path>`` ``<problem>``", then ``; <hint>`` when there is a way to create it."""
    if not exists:
        raise ConfigurationError(
            f"{where}: {label} {path} {problem}" + (f"; {hint}" if hint else ""), code=CODE
        )
