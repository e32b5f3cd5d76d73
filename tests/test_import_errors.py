"""Errors point the right way: an old aws-cdk-lib or a failing module names its real cause."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

import lambda_patterns
from lambda_patterns import _compat

ROOT = Path(__file__).resolve().parent.parent


def test_an_old_aws_cdk_lib_fails_fast_naming_the_version_required():
    with pytest.raises(ImportError) as raised:
        _compat.require_aws_cdk_lib("2.200.0")

    assert str(raised.value) == (
        "lambda-patterns needs aws-cdk-lib>=2.269.0,<3, but aws-cdk-lib 2.200.0 is installed: "
        "pip install 'aws-cdk-lib>=2.269.0,<3'"
    )


@pytest.mark.parametrize("version", ["2.269.0", "2.270.1", "2.1000.0"])
def test_the_floor_and_newer_releases_pass(version):
    _compat.require_aws_cdk_lib(version)


def test_the_checked_floor_is_the_declared_one():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]

    assert f"aws-cdk-lib>={_compat.MIN_AWS_CDK_LIB},<3" in dependencies


def test_a_module_failing_inside_shows_its_real_error_not_cannot_import_name(tmp_path, monkeypatch):
    (tmp_path / "broken_export.py").write_text(
        "import aws_cdk.aws_lambda as lambda_\nRUNTIME = lambda_.Runtime.PYTHON_9_99\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(lambda_patterns._EXPORTS, "Broken", "broken_export")
    monkeypatch.delitem(sys.modules, "broken_export", raising=False)

    with pytest.raises(ImportError) as raised:
        from lambda_patterns import Broken  # noqa: F401

    assert "PYTHON_9_99" in str(raised.value)
    assert "cannot import name" not in str(raised.value)


def test_the_local_runner_without_its_extra_says_in_one_line_what_to_install(tmp_path):
    import os
    import subprocess

    # A fresh interpreter that sees the library but none of the local extra's packages.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('moto', 'werkzeug', 'jsonschema', 'airspeed'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "constructs")])}

    result = subprocess.run(
        [sys.executable, "-m", "lambda_patterns.local", "--assembly", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the local runner needs moto, werkzeug, jsonschema, airspeed: pip install 'lambda-patterns[local]'"
    ]
