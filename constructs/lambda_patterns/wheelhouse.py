"""Download, at install time, the wheels every handler in a source tree needs, for every Lambda target.

``make install`` runs this once; afterwards ``FunctionPackage`` installs from the folder with ``--no-index``,
so ``cdk synth`` and the tests download nothing.

    python -m lambda_patterns.wheelhouse --source lambda_src --dest .wheelhouse
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from lambda_patterns import defaults
from lambda_patterns.steps.platforms import pip_platform_args, runtime_python_version

ARCHITECTURES = ("arm64", "x86_64")


def requirement_files(source: Path) -> list[Path]:
    """Each handler's requirements.txt under ``source``, in a stable order."""
    return sorted(p for p in source.glob("*/requirements.txt") if p.read_text().strip())


def download_command(requirements: Path, dest: Path, python_version: str, architecture: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        *pip_platform_args(python_version, architecture),
        "--requirement",
        str(requirements),
        "--dest",
        str(dest),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("lambda_src"))
    parser.add_argument("--dest", type=Path, default=Path(".wheelhouse"))
    parser.add_argument("--python", default=runtime_python_version(defaults.RUNTIME))
    parser.add_argument("--arch", action="append", choices=ARCHITECTURES)
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    for requirements in requirement_files(args.source):
        for architecture in args.arch or ARCHITECTURES:
            before = set(args.dest.glob("*.whl"))
            start = time.monotonic()
            subprocess.run(download_command(requirements, args.dest, args.python, architecture), check=True)
            # One line per function and target, so a first `make synth` never sits silent for minutes.
            added = len(set(args.dest.glob("*.whl")) - before)
            print(
                f"wheels: {requirements.parent.name} (Python {args.python}, {architecture}): {added} downloaded "
                f"in {time.monotonic() - start:.1f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
