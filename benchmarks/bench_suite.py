"""Wall time of the test suite as ``make test`` runs it (once, it takes minutes), against pytest collecting
the same suite (imports, fixtures' modules, parametrization: the floor of running it at all)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(*args: str) -> tuple[float, str]:
    env = dict(os.environ)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{result.stdout[-2000:]}")
    return time.perf_counter() - start, result.stdout.strip().splitlines()[-1]


def run() -> list[dict]:
    # syrupy reports every snapshot unused when nothing runs, and fails the collection for it.
    collect, _ = _timed("--collect-only", "-p", "no:syrupy")
    suite, summary = _timed()
    return [
        {
            "section": "tests",
            "name": "the whole test suite (make test's pytest)",
            "value": suite,
            "unit": "s",
            "baseline_name": "pytest --collect-only of the same suite",
            "baseline": collect,
            "ratio": suite / collect,
            "note": f"{os.cpu_count()} CPUs; {summary}; packages bundled once per session (tests/conftest.py)",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
