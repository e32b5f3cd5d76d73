"""The entry folder and the shared folders are merged into one package root: no two may provide the same
path, which would silently overwrite one file with the other."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.DuplicateFile"


def check_unique_files(where: str, folders: Sequence[tuple[Path, Iterable[str]]]) -> None:
    """``folders``: each folder with the relative paths it provides, in the order they are merged."""
    origin: dict[str, Path] = {}
    for folder, relatives in folders:
        for relative in relatives:
            if relative in origin:
                raise ConfigurationError(
                    f"{where}: {relative} comes from both {origin[relative]} and {folder}; "
                    "rename one so the package has exactly one",
                    code=CODE,
                )
            origin[relative] = folder
