"""checks.overwrite: a handler or shared file never replaces one that pip installed."""

from pathlib import Path

import pytest

from lambda_patterns.checks.overwrite import check_no_overwrite
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.Overwrite"
SOURCES = {"handler.py": Path("/src/handler.py"), "six.py": Path("/src/six.py")}
REQUIREMENTS = Path("/src/requirements.txt")


@pytest.mark.parametrize("installed", [set(), {"PIL/__init__.py", "boto3/__init__.py"}])
def test_accepts_files_pip_did_not_install(installed):
    check_no_overwrite("W", SOURCES, installed, REQUIREMENTS)


def test_refuses_a_file_pip_installed():
    error = refusal(check_no_overwrite, "W", SOURCES, {"six.py"}, REQUIREMENTS)

    assert (error.code, str(error)) == (
        CODE,
        "W: six.py from /src would overwrite a file that /src/requirements.txt installed; rename the module",
    )
