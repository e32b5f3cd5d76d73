"""The layout is part of the design (issue 12): one name per use case, small modules, patterns built one way.

These read the source tree, not a synthesized app, so a rename or a growing module fails here first.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = ROOT / "constructs" / "lambda_patterns" / "patterns"
LAMBDA_SRC = ROOT / "lambda_src"
#: Modules of ``patterns/`` that build no function of their own.
PATTERN_HELPERS = {"__init__", "pattern_function", "web_api_schema"}
#: Handlers that belong to no pattern: ``hello`` is the example ``LambdaService``'s, ``common`` is shared.
NOT_PATTERN_HANDLERS = {"common", "hello"}
MAX_MODULE_LINES = 500


def _pattern_modules() -> list[Path]:
    return sorted(p for p in PATTERNS.glob("*.py") if p.stem not in PATTERN_HELPERS)


def _handler_arguments(module: Path) -> list[str]:
    """The ``handler=`` strings of every ``build_pattern_function(...)`` call in ``module``."""
    found = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "build_pattern_function":
            found += [
                kw.value.value
                for kw in node.keywords
                if kw.arg == "handler" and isinstance(kw.value, ast.Constant)
            ]
    return found


@pytest.mark.parametrize("module", _pattern_modules(), ids=lambda p: p.stem)
def test_each_pattern_packages_the_handler_folder_of_its_own_name(module):
    # given a pattern module, when its function is built, then the handler folder carries the module's name
    assert _handler_arguments(module) == [module.stem]
    assert (LAMBDA_SRC / module.stem / "handler.py").is_file()


def test_every_handler_folder_belongs_to_a_pattern_of_the_same_name():
    folders = {p.name for p in LAMBDA_SRC.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert folders - NOT_PATTERN_HANDLERS == {p.stem for p in _pattern_modules()}


def _source_modules() -> list[Path]:
    return sorted(
        p
        for top in ("constructs", "lambda_src", "stacks")
        for p in (ROOT / top).rglob("*.py")
        if "__pycache__" not in p.parts
    )


def test_no_library_or_handler_module_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _source_modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
