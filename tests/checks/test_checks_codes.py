"""Every ``ConfigurationError`` the library raises carries a stable code, one per rule, listed in
docs/checks.md.

The source is read, not imported or synthesized: each ``ConfigurationError(...)`` call needs ``code=``,
a string literal or a module-level string constant spelled ``LambdaPatterns.<Area>.<Rule>``. A helper
whose code is one of its own parameters (``checks.bounds.check_between(..., code=...)``) passes that duty
on to its callers. A rule is a module of ``checks/`` (one rule per file), elsewhere the function that
raises; two rules never share a code. Each test lists every offender it finds, not only the first.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "constructs" / "lambda_patterns"
DOCS = ROOT / "docs" / "checks.md"
CODE = re.compile(r"^LambdaPatterns\.[A-Z][A-Za-z]+\.[A-Z][A-Za-z]+$")
ERROR = "ConfigurationError"


@dataclass(frozen=True)
class Site:
    """A ``ConfigurationError(...)`` call, or a call of a helper that forwards its ``code`` to one."""

    path: str  # relative to constructs/lambda_patterns
    line: int
    rule: str  # the checks module, else "<path>::<function>"
    function: str | None  # the enclosing function's name
    code: str | None
    forwards: bool  # code= is a parameter of the enclosing function: the callers name the code
    problem: str | None  # why the site is an offender

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def _modules(package: Path) -> dict[str, ast.Module | SyntaxError]:
    parsed: dict[str, ast.Module | SyntaxError] = {}
    for path in sorted(package.rglob("*.py")):
        try:
            parsed[path.relative_to(package).as_posix()] = ast.parse(path.read_text(), str(path))
        except SyntaxError as error:
            parsed[path.relative_to(package).as_posix()] = error
    return parsed


def _constants(module: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "string"`` assignments."""
    found: dict[str, str] = {}
    for node in module.body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or not isinstance(node.value, ast.Constant):
            continue
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                found[target.id] = node.value.value
    return found


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str, constants: dict[str, str], raisers: set[str]) -> None:
        self.path, self.constants, self.raisers = path, constants, raisers
        self.scopes: list[tuple[str, frozenset[str]]] = []
        self.sites: list[Site] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scopes.append((node.name, frozenset()))
        self.generic_visit(node)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        arguments = node.args
        names = [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]
        self.scopes.append((node.name, frozenset(names)))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if _called(node.func) in self.raisers:
            self.sites.append(self._site(node))
        self.generic_visit(node)

    def _site(self, node: ast.Call) -> Site:
        qualname = ".".join(name for name, _ in self.scopes) or "<module>"
        function = next((name for name, params in reversed(self.scopes) if params), None)
        parameters = next((params for _, params in reversed(self.scopes) if params), frozenset())
        rule = self.path if self.path.startswith("checks/") else f"{self.path}::{qualname}"
        code, forwards, problem = None, False, None
        keyword = next((k for k in node.keywords if k.arg == "code"), None)
        value = keyword.value if keyword else None
        if value is None:
            problem = f"{_called(node.func)}(...) without code="
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            code = value.value
        elif isinstance(value, ast.Name) and value.id in self.constants:
            code = self.constants[value.id]
        elif isinstance(value, ast.Name) and value.id in parameters:
            forwards = True
        else:
            problem = (
                f"code={ast.unparse(value)} is neither a string literal nor a module-level string constant"
            )
        if code is not None and not CODE.match(code):
            problem = f"code {code!r} does not match {CODE.pattern}"
        return Site(self.path, node.lineno, rule, function, code, forwards, problem)


def _sites(package: Path = PACKAGE) -> tuple[list[Site], list[str]]:
    """Every raise site of a code, and the modules that could not be parsed."""
    modules = _modules(package)
    broken = [
        f"{path}: does not parse ({error.msg}, line {error.lineno})"
        for path, error in modules.items()
        if isinstance(error, SyntaxError)
    ]
    parsed = {path: module for path, module in modules.items() if isinstance(module, ast.Module)}
    raisers = {ERROR}
    while True:
        sites: list[Site] = []
        for path, module in parsed.items():
            finder = _Finder(path, _constants(module), raisers)
            finder.visit(module)
            sites += finder.sites
        forwarding = {site.function for site in sites if site.forwards and site.function}
        if forwarding <= raisers:
            return [site for site in sites if not site.forwards], broken
        raisers |= forwarding


def _codes() -> dict[str, list[Site]]:
    sites, _ = _sites()
    by_code: dict[str, list[Site]] = defaultdict(list)
    for site in sites:
        if site.problem is None:
            by_code[site.code].append(site)
    return by_code


def _documented() -> dict[str, str]:
    """docs/checks.md's table: code -> the module it names (relative to constructs/lambda_patterns)."""
    rows = re.findall(r"^\|\s*`(LambdaPatterns\.[^`]+)`\s*\|\s*`([^`]+)`", DOCS.read_text(), re.MULTILINE)
    return dict(rows)


def test_the_library_has_raise_sites_to_check():
    sites, _ = _sites()

    assert len(sites) > 50
    assert any(site.path == "checks/recursion.py" for site in sites)


def test_every_configuration_error_names_a_well_formed_code():
    sites, broken = _sites()

    offenders = broken + [str(site) for site in sites if site.problem is not None]

    assert offenders == [], "ConfigurationError without a valid code=:\n" + "\n".join(offenders)


def test_two_rules_never_share_a_code():
    shared = [
        f"{code} is raised by {len(rules)} rules: " + "; ".join(sorted(rules))
        for code, sites in sorted(_codes().items())
        if len(rules := {site.rule for site in sites}) > 1
    ]

    assert shared == [], "codes shared by different rules:\n" + "\n".join(shared)


def test_each_checks_module_is_one_rule_with_one_code():
    codes_by_module: dict[str, set[str]] = defaultdict(set)
    for code, sites in _codes().items():
        for site in sites:
            if site.path.startswith("checks/"):
                codes_by_module[site.path].add(code)

    several = [
        f"{path}: {sorted(codes)}" for path, codes in sorted(codes_by_module.items()) if len(codes) > 1
    ]

    assert several == [], "checks modules raising more than one code:\n" + "\n".join(several)


def test_docs_list_every_code_with_the_module_that_raises_it():
    raised = {code: {site.path for site in sites} for code, sites in _codes().items()}
    documented = _documented()

    offenders = [
        f"{code}: raised in {sorted(paths)}, missing from docs/checks.md"
        for code, paths in sorted(raised.items())
        if code not in documented
    ]
    offenders += [
        f"{code}: in docs/checks.md, raised nowhere" for code in sorted(documented) if code not in raised
    ]
    offenders += [
        f"{code}: docs/checks.md names {module}, raised in {sorted(raised[code])}"
        for code, module in sorted(documented.items())
        if code in raised and module not in raised[code]
    ]

    assert offenders == [], "docs/checks.md out of date:\n" + "\n".join(offenders)


def test_the_finder_reports_each_kind_of_offender(tmp_path):
    # The finder itself, on a made-up package: a missing code, a malformed one, a computed one, a helper's
    # caller that forgets the code, and two rules sharing one.
    package = tmp_path / "lambda_patterns"
    (package / "checks").mkdir(parents=True)
    (package / "checks" / "helper.py").write_text(
        "def check_between(where, value, *, code):\n"
        "    if value < 0:\n"
        "        raise ConfigurationError(f'{where}: negative', code=code)\n"
    )
    (package / "checks" / "one.py").write_text(
        "CODE = 'LambdaPatterns.Made.Up'\n"
        "def check_one(x):\n"
        "    if x:\n"
        "        raise ConfigurationError('x', code=CODE)\n"
    )
    (package / "pattern.py").write_text(
        "def a():\n"
        "    raise ConfigurationError('no code')\n"
        "def b():\n"
        "    raise ConfigurationError('bad', code='Lambda.Bad')\n"
        "def c(name):\n"
        "    raise ConfigurationError('computed', code=f'LambdaPatterns.{name}.X')\n"
        "def d():\n"
        "    check_between('w', 1)\n"
        "def e():\n"
        "    check_between('w', 1, code='LambdaPatterns.Made.Up')\n"
    )
    (package / "broken.py").write_text("def f(:\n")

    sites, broken = _sites(package)

    assert broken == ["broken.py: does not parse (invalid syntax, line 1)"]
    assert sorted(str(site) for site in sites if site.problem) == [
        "pattern.py:2: ConfigurationError(...) without code=",
        "pattern.py:4: code 'Lambda.Bad' does not match " + CODE.pattern,
        "pattern.py:6: code=f'LambdaPatterns.{name}.X' is neither a string literal nor a module-level string "
        "constant",
        "pattern.py:8: check_between(...) without code=",
    ]
    assert {site.rule for site in sites if site.code == "LambdaPatterns.Made.Up"} == {
        "checks/one.py",
        "pattern.py::e",
    }
