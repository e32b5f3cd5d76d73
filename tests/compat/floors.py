"""Print the oldest version of each declared dependency, as pins: ``python tests/compat/floors.py [extra ...]``.

The Makefile installs exactly these into the compatibility virtualenv, so the floors pyproject.toml
declares are the versions a test installs and exercises, never a guess.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
_FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][0-9A-Za-z.]*)")


def floors(extras: list[str]) -> list[str]:
    """``name==floor`` for every runtime dependency, and those of the named extras; each must declare one."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins = []
    for requirement in requirements:
        match = _FLOOR.match(requirement)
        if match is None:
            raise SystemExit(
                f"{requirement!r} declares no floor (>=): the compatibility job cannot install it"
            )
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


if __name__ == "__main__":
    print(" ".join(floors(sys.argv[1:])))
