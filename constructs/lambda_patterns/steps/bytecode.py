"""Bytecode in the package (``FunctionPackage(bytecode=True)``): a cold start that compiles nothing.

Lambda unpacks a package into a read-only ``/var/task``, so Python compiles every module of the handler at
every cold start and can keep none of it. Shipping ``__pycache__/*.pyc`` written by the runtime's own Python
version removes that cost (``make bench`` measures it). A ``.pyc`` is valid only for the interpreter version
that wrote it, so the package step needs an interpreter of the runtime's version on this machine: the
synth's own Python when it is that version, else ``python3.X`` on ``PATH``. In Docker (``use_docker``) the
runtime's bundling image compiles it.

The files are written with ``checked-hash`` invalidation: the runtime hashes the source it has beside the
``.pyc`` and compiles the source instead when they differ, so a ``.pyc`` can never run code other than its
source. Recorded paths are ``/var/task/...``, whatever folder the package was built in, so tracebacks name
the paths Lambda shows and the files do not depend on where the synth ran. The interpreter's full version
and magic number are part of the asset hash: another build writes other bytes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

from constructs import Construct

from lambda_patterns import synth_cache
from lambda_patterns.checks.bytecode_context import check_bytecode_context
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.jsii_reads import node_of

#: Context that turns bytecode on for every package whose ``bytecode`` prop is not given.
CONTEXT = "lambda-patterns:bytecode"
#: Where Lambda unpacks the package: the prefix of every path recorded in the bytecode.
TASK_ROOT = "/var/task"
#: What identifies the interpreter's bytecode: its version and the magic number of its ``.pyc`` files.
_IDENTITY = "import importlib.util, sys; print(sys.version); print(importlib.util.MAGIC_NUMBER.hex())"


def wanted(scope: Construct, where: str, bytecode: bool | None) -> bool:
    """The ``bytecode`` prop, else the ``lambda-patterns:bytecode`` context (default off): one switch for an
    app whose functions the patterns package, for a synth machine that has the runtime's Python."""
    if bytecode is not None:
        return bytecode
    return check_bytecode_context(where, CONTEXT, node_of(scope).try_get_context(CONTEXT))


def find_interpreter(python_version: str) -> Path | None:
    """An interpreter of ``python_version`` (``"3.14"``) on this machine: the synth's own when it is that
    version, else ``python<version>`` on ``PATH``; None when there is neither."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        return Path(sys.executable)
    found = shutil.which(f"python{python_version}")
    if found is None:
        return None
    # Its version is part of the package, but this process never opens it: tell the synth cache.
    synth_cache.note_input(found)
    return Path(found)


@functools.cache
def interpreter_identity(interpreter: Path) -> str:
    """The interpreter's full version and bytecode magic number, for the asset hash; asked once per synth.
    The synth cache asks again before it reuses an assembly: a shim on PATH (pyenv's) may now run another
    build."""
    command = [str(interpreter), "-I", "-c", _IDENTITY]
    identity = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    synth_cache.note_probe(command, identity)
    return identity


def compile_command(interpreter: str, folder: str) -> list[str]:
    """``compileall`` over every module of ``folder`` (the handler, shared code and installed wheels), with
    paths recorded under ``TASK_ROOT``."""
    return [
        interpreter,
        "-I",
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "checked-hash",
        "-s",
        folder,
        "-p",
        TASK_ROOT,
        folder,
    ]


def compile_package(interpreter: Path, folder: Path, where: str) -> None:
    """Writes the bytecode of every module in ``folder``.

    A module that does not compile (compileall's status 1) gets no ``.pyc`` and fails where it would without
    one, at import: as pip does when it compiles what it installs, a wheel's unused file that only another
    Python accepts must not fail the synth. An interpreter that cannot run compileall at all does.
    """
    result = subprocess.run(compile_command(str(interpreter), str(folder)), capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise ConfigurationError(
            f"{where}: {interpreter} could not compile the package's modules:\n"
            f"{(result.stdout + result.stderr).strip()}",
            code="LambdaPatterns.Package.Bytecode",
        )
