"""checks.empty_entry: a package holds at least one file."""

from pathlib import Path

import pytest

from lambda_patterns.checks.empty_entry import check_entry_not_empty
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.EmptyEntry"


@pytest.mark.parametrize("sources", [{"handler.py": Path("/src/handler.py")}, ["lambda_common/__init__.py"]])
def test_accepts_a_package_with_files(sources):
    check_entry_not_empty("W", Path("/src"), sources)


@pytest.mark.parametrize("sources", [{}, []])
def test_refuses_a_package_without_any(sources):
    error = refusal(check_entry_not_empty, "W", Path("/src"), sources)

    assert (error.code, str(error)) == (CODE, "W: entry /src has no files to package")
