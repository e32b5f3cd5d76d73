"""A handler or shared file must not replace a file that pip installed: one of the two would be lost."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.Overwrite"


def check_no_overwrite(
    where: str, sources: Mapping[str, Path], installed: Collection[str], requirements: Path | None
) -> None:
    """``sources``: relative path -> source file; ``installed``: the relative paths pip's output holds."""
    for relative, source in sources.items():
        if relative in installed:
            raise ConfigurationError(
                f"{where}: {relative} from {source.parent} would overwrite a file that "
                f"{requirements} installed; rename the module",
                code=CODE,
            )
