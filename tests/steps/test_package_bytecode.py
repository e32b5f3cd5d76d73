"""FunctionPackage(bytecode=True): the package ships bytecode that the runtime's Python loads instead of compiling.

The runtime of these packages is the Python running the tests (``RUNTIME``), so the synth's own interpreter
writes the bytecode and a child of the same interpreter can load it, as Lambda's would.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.bytecode import TASK_ROOT
from lambda_patterns.steps.docker_bundling import docker_command
from lambda_patterns.steps.package import BundlePlan
from package_builds import build_wheel, staged_asset, synth

ROOT = Path(__file__).resolve().parents[2]
HANDLER = Path(__file__).resolve().parents[1] / "fixtures" / "package" / "handler"
COMMON = ROOT / "lambda_src" / "common"
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
RUNTIME = lambda_.Runtime(f"python{VERSION}", lambda_.RuntimeFamily.PYTHON)
TAG = sys.implementation.cache_tag
# Counts the modules compiled from source while importing the handler from a package root: importlib
# compiles a module's file only when it has no valid bytecode for it. (Other compile() calls, such as the
# namedtuple constructors of the standard library, name no file.)
_IMPORT = """
import sys
compiles = []
def audit(event, args):
    if event == "compile" and str(args[1]).endswith(".py"):
        compiles.append(args[1])
sys.addaudithook(audit)
sys.path.insert(0, sys.argv[1])
import handler, lambda_common.logs, tinypure
print(len(compiles))
"""


_EDITED = "import sys; sys.path.insert(0, sys.argv[1]); import handler; print(handler.EDITED)"


@pytest.fixture
def wheelhouse(tmp_path) -> Path:
    folder = tmp_path / "wheelhouse"
    build_wheel(
        folder,
        "tinypure",
        "py3-none-any",
        {
            "tinypure/__init__.py": b"ANSWER = 42\n",
            # A file of a wheel that only another Python accepts: pip compiles around it, and so must we.
            "tinypure/legacy.py": b"print 'python 2'\n",
        },
    )
    return folder


@pytest.fixture
def project(tmp_path, wheelhouse) -> dict:
    handler = Path(shutil.copytree(HANDLER, tmp_path / "handler"))
    (handler / "requirements.txt").write_text("tinypure==1.0\n")
    return {
        "entry": str(handler),
        "shared": [str(COMMON)],
        "runtime": RUNTIME,
        "wheelhouse": str(wheelhouse),
    }


@pytest.fixture(autouse=True)
def own_bundle_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMBDA_PATTERNS_CACHE", str(tmp_path / "bundle-cache"))


def imports_compiling(root: Path) -> int:
    # -B: /var/task is read-only, so the runtime writes no bytecode (-I ignores PYTHONDONTWRITEBYTECODE)
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _IMPORT, str(root)], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip())


def test_bytecode_package_imports_without_compiling(tmp_path, project):
    # given a package with bytecode and the same package without
    synth(tmp_path / "with", bytecode=True, **project)
    synth(tmp_path / "without", **project)
    with_bytecode, without = staged_asset(tmp_path / "with"), staged_asset(tmp_path / "without")

    # then the runtime's Python imports the handler, the shared code and the wheel's module compiling nothing,
    # where the package without bytecode compiles each of them
    assert not list(without.rglob("*.pyc"))
    assert imports_compiling(with_bytecode) == 0
    assert imports_compiling(without) >= 3


def test_bytecode_is_checked_against_its_source_and_names_task_root_paths(tmp_path, project):
    synth(tmp_path / "out", bytecode=True, **project)
    root = staged_asset(tmp_path / "out")

    pyc = root / "__pycache__" / f"handler.{TAG}.pyc"
    data = pyc.read_bytes()
    # PEP 552: magic, flags (0b11: hash-based, checked), the source's hash, then the code object.
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b11
    assert data[8:16] == importlib.util.source_hash((root / "handler.py").read_bytes())
    assert marshal.loads(data[16:]).co_filename == f"{TASK_ROOT}/handler.py"


def test_bytecode_runs_the_source_when_the_source_changed(tmp_path, project):
    # given a bytecode package whose handler source is then edited in place (the console's code editor)
    synth(tmp_path / "out", bytecode=True, **project)
    root = staged_asset(tmp_path / "out")
    handler = root / "handler.py"
    handler.write_text(handler.read_text() + "\nEDITED = True\n")

    # then the runtime compiles the new source rather than running the stale bytecode
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import handler; print(handler.EDITED)",
            str(root),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    )
    assert result.stdout.strip() == "True"


def test_bytecode_goes_without_for_a_module_that_does_not_compile(tmp_path, project):
    synth(tmp_path / "out", bytecode=True, **project)
    root = staged_asset(tmp_path / "out")

    assert (root / "tinypure" / "__pycache__" / f"__init__.{TAG}.pyc").is_file()
    assert not (root / "tinypure" / "__pycache__" / f"legacy.{TAG}.pyc").exists()


def test_bytecode_is_the_same_bytes_wherever_the_package_is_built(tmp_path, project, monkeypatch):
    # given the same package built into two output folders, with no bundle cache between them
    monkeypatch.setenv("LAMBDA_PATTERNS_CACHE", "off")
    synth(tmp_path / "a" / "out", bytecode=True, **project)
    synth(tmp_path / "b" / "deeper" / "out", bytecode=True, **project)
    a, b = staged_asset(tmp_path / "a" / "out"), staged_asset(tmp_path / "b" / "deeper" / "out")

    files_a = sorted(p.relative_to(a) for p in a.rglob("*.pyc"))
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*.pyc"))
    assert files_a
    assert all((a / p).read_bytes() == (b / p).read_bytes() for p in files_a)


def test_bytecode_is_part_of_the_asset_hash_and_off_keeps_the_old_one(tmp_path, project):
    on = synth(tmp_path / "on", context={"aws:cdk:bundling-stacks": []}, bytecode=True, **project)
    off = synth(tmp_path / "off", context={"aws:cdk:bundling-stacks": []}, **project)
    default = synth(tmp_path / "default", context={"aws:cdk:bundling-stacks": []}, bytecode=False, **project)

    assert on.asset_hash != off.asset_hash
    assert off.asset_hash == default.asset_hash
    assert on.bytecode and not off.bytecode


def test_bytecode_without_an_interpreter_of_the_runtime_version_fails_the_synth(
    tmp_path, project, monkeypatch
):
    # given a runtime whose Python is neither the synth's nor on PATH
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    other = "3.14" if VERSION != "3.14" else "3.13"
    runtime = lambda_.Runtime(f"python{other}", lambda_.RuntimeFamily.PYTHON)

    with pytest.raises(ConfigurationError) as caught:
        synth(tmp_path / "out", bytecode=True, **{**project, "runtime": runtime})

    assert caught.value.code == "LambdaPatterns.Package.BytecodeInterpreter"
    assert f"no python{other} on PATH" in str(caught.value)


def test_bytecode_in_docker_is_compiled_by_the_runtime_image(tmp_path):
    plan = BundlePlan(
        where="W",
        entry=tmp_path,
        shared=(),
        sources={},
        requirements=None,
        wheelhouse=None,
        runtime_name="python3.14",
        python_version="3.14",
        architecture="arm64",
        bytecode=True,
    )

    script = docker_command(plan, [])[2]

    assert script.endswith(
        "{ python -I -m compileall -q --invalidation-mode checked-hash -s /asset-output -p /var/task "
        "/asset-output; status=$?; [ $status -le 1 ]; }"
    )
    assert "compileall" not in docker_command(BundlePlan(**{**plan.__dict__, "bytecode": False}), [])[2]


def test_synthesized_template_is_unchanged_by_bytecode_off(tmp_path, project):
    """bytecode=False is the default: the template names the same asset as a package that never heard of it."""
    synth(tmp_path / "a", bytecode=False, **project)
    synth(tmp_path / "b", **project)
    key = lambda out: json.loads((out / "Package.template.json").read_text())  # noqa: E731

    assert key(tmp_path / "a") == key(tmp_path / "b")


def test_bytecode_context_turns_it_on_for_packages_that_do_not_say(tmp_path, project):
    """One switch for an app whose functions the patterns package: ``-c lambda-patterns:bytecode=true``."""
    skip = {"aws:cdk:bundling-stacks": []}
    by_context = synth(tmp_path / "a", context={**skip, "lambda-patterns:bytecode": "true"}, **project)
    by_prop = synth(tmp_path / "b", context=skip, bytecode=True, **project)
    prop_wins = synth(
        tmp_path / "c", context={**skip, "lambda-patterns:bytecode": "true"}, bytecode=False, **project
    )
    default = synth(tmp_path / "d", context=skip, **project)

    assert by_context.bytecode and by_context.asset_hash == by_prop.asset_hash
    assert not prop_wins.bytecode and prop_wins.asset_hash == default.asset_hash
