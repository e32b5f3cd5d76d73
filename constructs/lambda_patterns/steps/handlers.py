"""Where the library's own handler sources are, in a source checkout and in an installed wheel alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def handlers_root() -> Path:
    """The folder holding one subfolder per handler (``lambda_src/`` in this repository)."""
    spec = importlib.util.find_spec("lambda_patterns._lambda_src")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # A checkout used without installing: this module sits in constructs/lambda_patterns/steps.
    return Path(__file__).resolve().parents[3] / "lambda_src"


def handler_path(name: str) -> Path:
    """The source folder of handler ``name``."""
    path = handlers_root() / name
    if not (path / "handler.py").is_file():
        raise FileNotFoundError(f"lambda-patterns has no handler {name!r} (looked in {path})")
    return path


def common_path() -> Path:
    """The folder whose ``lambda_common`` package every handler here shares."""
    return handlers_root() / "common"
