"""The naming hazard: the top-level constructs/ source folder must never shadow the `constructs` library."""

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_constructs_gives_the_pypi_library_not_the_source_folder():
    constructs = importlib.import_module("constructs")

    assert hasattr(constructs, "Construct")
    assert "site-packages" in str(Path(constructs.__file__).resolve())
    assert not (ROOT / "constructs" / "__init__.py").exists()


def test_lambda_patterns_is_imported_from_the_source_folder():
    lambda_patterns = importlib.import_module("lambda_patterns")

    assert Path(lambda_patterns.__file__).resolve().parent == ROOT / "constructs" / "lambda_patterns"


def test_every_public_name_of_lambda_patterns_resolves():
    lambda_patterns = importlib.import_module("lambda_patterns")

    missing = [name for name in lambda_patterns.__all__ if getattr(lambda_patterns, name, None) is None]

    assert missing == []
    assert set(lambda_patterns.__all__) == {*lambda_patterns._EXPORTS, "permissions"}


def test_importing_lambda_patterns_alone_does_not_start_aws_cdk_lib():
    import subprocess
    import sys

    code = "import sys, lambda_patterns; print('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"
