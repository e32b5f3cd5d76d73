"""checks.duplicate_files: no two of the merged folders provide the same path."""

from pathlib import Path

import pytest

from lambda_patterns.checks.duplicate_files import check_unique_files
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.DuplicateFile"
ENTRY, COMMON, EXTRA = Path("/src"), Path("/common"), Path("/extra")


@pytest.mark.parametrize(
    "folders",
    [
        [],
        [(ENTRY, ["handler.py"])],
        [(ENTRY, ["handler.py"]), (COMMON, ["lambda_common/__init__.py"]), (EXTRA, ["extra.py"])],
    ],
)
def test_accepts_folders_with_disjoint_files(folders):
    check_unique_files("W", folders)


@pytest.mark.parametrize(
    ("folders", "message"),
    [
        (
            [(ENTRY, ["handler.py"]), (COMMON, ["handler.py"])],
            "W: handler.py comes from both /src and /common; rename one so the package has exactly one",
        ),
        (
            [(ENTRY, ["handler.py"]), (COMMON, ["a.py", "b.py"]), (EXTRA, ["b.py"])],
            "W: b.py comes from both /common and /extra; rename one so the package has exactly one",
        ),
    ],
)
def test_refuses_a_path_two_folders_provide(folders, message):
    error = refusal(check_unique_files, "W", folders)

    assert (error.code, str(error)) == (CODE, message)
