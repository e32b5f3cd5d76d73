"""Fresh virtualenvs outside the repository holding the wheel built from this checkout, for the tests that
use the library as a user does (tests/test_install.py, tests/test_compat.py). Nothing is downloaded: the
dependencies under test are reached through a .pth line naming an existing site-packages folder, whose own
.pth files (the editable install of lambda_patterns among them) are not processed from there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(out: Path) -> Path:
    """The wheel of this checkout, built by this environment's setuptools (pinned in requirements-dev.txt):
    build isolation would download one."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("lambda_patterns-*.whl")
    return built


def site_packages(python: Path | str) -> str:
    return subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def user_venv(folder: Path, dependencies: str, wheel: Path) -> Path:
    """A virtualenv in ``folder`` that reaches ``dependencies`` (a site-packages folder) and holds ``wheel``;
    returns its python."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    Path(site_packages(python), "dependencies-under-test.pth").write_text(dependencies + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True
    )
    return python
