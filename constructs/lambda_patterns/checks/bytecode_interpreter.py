"""``FunctionPackage(bytecode=True)`` compiles with the runtime's own Python version, so one must be here."""

from __future__ import annotations

import sys
from pathlib import Path

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.BytecodeInterpreter"


def check_bytecode_interpreter(
    where: str, runtime_name: str, python_version: str, interpreter: Path | None
) -> Path:
    """The interpreter ``steps.bytecode.find_interpreter`` found; none is an error: bytecode from another
    version would be ignored by the runtime, and none at all is not what was asked."""
    if interpreter is not None:
        return interpreter
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    raise ConfigurationError(
        f"{where}: bytecode=True compiles the package with Python {python_version}, the version of "
        f"{runtime_name}, and this machine has none: the synth runs Python {running} and there is no "
        f"python{python_version} on PATH. Install Python {python_version}, pass use_docker=True to compile in "
        "the runtime's bundling image, or leave bytecode off.",
        code=CODE,
    )
