"""checks.package_paths: every folder and file a package is built from exists."""

from pathlib import Path

import pytest

from lambda_patterns.checks.package_paths import check_path
from test_checks_support import refusal

CODE = "LambdaPatterns.Package.Path"


@pytest.mark.parametrize("label", ["entry", "shared folder", "wheelhouse"])
def test_accepts_a_path_that_exists(label):
    check_path("W", label, Path("/src"), True)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("entry", Path("/src/absent"), False), {}, "W: entry /src/absent is not a folder"),
        (("shared folder", Path("/common"), False), {}, "W: shared folder /common is not a folder"),
        (
            ("requirements file", Path("/src/requirements.txt"), False, "does not exist"),
            {},
            "W: requirements file /src/requirements.txt does not exist",
        ),
        (
            ("the wheelhouse", Path("/wheels"), False, "does not exist"),
            {"hint": "create it with python -m lambda_patterns.wheelhouse"},
            "W: the wheelhouse /wheels does not exist; create it with python -m lambda_patterns.wheelhouse",
        ),
    ],
)
def test_refuses_a_path_that_does_not(args, kwargs, message):
    error = refusal(check_path, "W", *args, **kwargs)

    assert (error.code, str(error)) == (CODE, message)
