"""checks.bytecode_interpreter: bytecode is compiled by an interpreter of the runtime's own Python version."""

import sys
from pathlib import Path

from lambda_patterns.checks.bytecode_interpreter import check_bytecode_interpreter
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.BytecodeInterpreter"


def test_accepts_the_interpreter_found_and_returns_it():
    found = Path("/usr/bin/python3.14")

    assert check_bytecode_interpreter("W", "python3.14", "3.14", found) == found


def test_refuses_when_there_is_no_interpreter_of_the_runtime_version():
    error = refusal(check_bytecode_interpreter, "W", "python3.14", "3.14", None)

    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert error.code == CODE
    assert str(error) == (
        "W: bytecode=True compiles the package with Python 3.14, the version of python3.14, and this machine "
        f"has none: the synth runs Python {running} and there is no python3.14 on PATH. Install Python 3.14, "
        "pass use_docker=True to compile in the runtime's bundling image, or leave bytecode off."
    )
