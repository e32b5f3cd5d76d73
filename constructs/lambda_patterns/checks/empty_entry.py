"""A package with no file at all (everything excluded, or an empty folder) has no handler to run."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.EmptyEntry"


def check_entry_not_empty(where: str, entry: Path, sources: Collection[str]) -> None:
    """``sources``: the package's files after excludes, the entry's and the shared folders'."""
    if not sources:
        raise ConfigurationError(f"{where}: entry {entry} has no files to package", code=CODE)
