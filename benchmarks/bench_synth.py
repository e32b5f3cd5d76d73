"""Synth time of app.py against an empty App, measured as users run it (the pinned CDK CLI) and in parts.

Rows, each a median of RUNS against a floor measured in the same run:
- the CLI's first synth into an empty output folder with an empty bundle cache (pip runs), with a warm
  bundle cache (an unchanged package is copied, no pip), and a repeat synth into the same folder;
- the same app and floor run by Python directly, with CDK's built-in CloudFormation validation on (CDK's
  default) and off (``CDK_VALIDATION=false``): the difference is what the validator costs, the rest is ours;
- the construct count and jsii round trips of one synth, the measure of what the library asks of CDK.
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, cdk_env, timed

CDK = ROOT / "node_modules" / ".bin" / "cdk"
RUNS = 3
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"
FIRST_TARGET, REPEAT_TARGET = 1.5, 1.2

# Counts constructs and jsii requests of one in-process synth of app.py; prints one JSON line.
_COUNT = r"""
import collections, json, runpy, sys
from jsii._kernel.providers import process
counts = collections.Counter()
send = process._NodeProcess.send
def counting(self, request, response_type):
    counts[type(request).__name__] += 1
    return send(self, request, response_type)
process._NodeProcess.send = counting
import aws_cdk as cdk
apps = []
real_init = cdk.App.__init__
def remember(self, *args, **kwargs):
    real_init(self, *args, **kwargs)
    apps.append(self)
cdk.App.__init__ = remember
runpy.run_path("app.py", run_name="__main__")
before = sum(counts.values())
constructs = len(apps[0].node.find_all())
print(json.dumps({"requests": before, "by_kind": counts.most_common(6), "constructs": constructs}))
"""


def _cli(app: str, outdir: Path) -> list[str]:
    return [str(CDK), "synth", "--quiet", "--no-notices", "--app", app, "--output", str(outdir)]


def _median(times: list[float]) -> float:
    return statistics.median(times)


def _row(name: str, value: float, baseline_name: str, baseline: float, note: str, unit: str = "s") -> dict:
    return {
        "section": "synth",
        "name": name,
        "value": value,
        "unit": unit,
        "baseline_name": baseline_name,
        "baseline": baseline,
        "ratio": value / baseline if baseline else None,
        "note": note,
    }


def _verdict(ratio: float, target: float) -> str:
    return f"target <= {target} ({'holds' if ratio <= target else 'MISSED'})"


def cli_rows(tmp: Path) -> list[dict]:
    """The pinned CLI on app.py and on the empty App, side by side in each round."""
    python = shlex.quote(sys.executable)
    empty_script = tmp / "empty_app.py"
    empty_script.write_text(EMPTY_APP)
    floor, cold, warm, repeat = [], [], [], []
    for run in range(RUNS):
        floor.append(timed(_cli(f"{python} {shlex.quote(str(empty_script))}", tmp / f"empty{run}")))
        cache = tmp / f"cache{run}"
        cold.append(timed(_cli(f"{python} app.py", tmp / f"cold{run}"), LAMBDA_PATTERNS_CACHE=str(cache)))
        warm.append(timed(_cli(f"{python} app.py", tmp / f"warm{run}"), LAMBDA_PATTERNS_CACHE=str(cache)))
        repeat.append(timed(_cli(f"{python} app.py", tmp / f"warm{run}"), LAMBDA_PATTERNS_CACHE=str(cache)))
        shutil.rmtree(cache, ignore_errors=True)
    base = _median(floor)
    floor_name = "cdk synth of an empty App with one empty Stack"
    first, again = _median(warm), _median(repeat)
    return [
        _row(
            "cdk synth of app.py, empty output folder, warm bundle cache",
            first,
            floor_name,
            base,
            f"median of {RUNS}; the pinned CLI; what any synth after the first on a machine costs "
            f"(packages copied from LAMBDA_PATTERNS_CACHE, no pip); {_verdict(first / base, FIRST_TARGET)}",
        ),
        _row(
            "cdk synth of app.py, same output folder, nothing changed",
            again,
            floor_name,
            base,
            f"median of {RUNS}; CDK reuses asset.<hash> already staged there; "
            f"{_verdict(again / base, REPEAT_TARGET)}",
        ),
        _row(
            "cdk synth of app.py, empty output folder, empty bundle cache",
            _median(cold),
            floor_name,
            base,
            f"median of {RUNS}; reference: pip installs each package with requirements from the wheelhouse",
        ),
    ]


def python_rows(tmp: Path) -> list[dict]:
    """app.py and the empty App run by Python, with CDK's built-in validation on and off."""
    times: dict[tuple[str, str], list[float]] = {}
    for run in range(RUNS):
        for validation in ("true", "false"):
            for name, command in (
                ("empty", [sys.executable, "-c", EMPTY_APP]),
                ("app", [sys.executable, "app.py"]),
            ):
                outdir = tmp / f"py-{name}-{validation}-{run}"
                # The bundle cache is warm from the CLI rows or an earlier run: these rows measure code, not pip.
                times.setdefault((name, validation), []).append(
                    timed(command, CDK_OUTDIR=str(outdir), CDK_VALIDATION=validation)
                )
    on_app, on_empty = _median(times[("app", "true")]), _median(times[("empty", "true")])
    off_app, off_empty = _median(times[("app", "false")]), _median(times[("empty", "false")])
    return [
        _row(
            "python app.py, CDK's built-in validation on",
            on_app,
            "python empty App, validation on",
            on_empty,
            f"median of {RUNS}, warm bundle cache; the CDK default; the validator's start-up is most of the floor",
        ),
        _row(
            "python app.py, CDK_VALIDATION=false",
            off_app,
            "python empty App, CDK_VALIDATION=false",
            off_empty,
            f"median of {RUNS}; what the library's constructs, imports and bundle copies cost without "
            "CDK's validator (cdk synth --no-validation does the same)",
        ),
        _row(
            "CDK's built-in CloudFormation validation on app.py",
            on_app - off_app,
            "the same validation on the empty App",
            on_empty - off_empty,
            "start-up plus a share per resource; make test keeps it on (cfn-lint runs too)",
        ),
    ]


def count_rows() -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", _COUNT],
        cwd=ROOT,
        env=cdk_env(CDK_OUTDIR=tempfile.mkdtemp()),
        capture_output=True,
        text=True,
        check=True,
    )
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    kinds = ", ".join(f"{kind} {n}" for kind, n in counts["by_kind"])
    return [
        _row(
            "jsii requests in one synth of app.py",
            counts["requests"],
            "constructs in the app",
            counts["constructs"],
            f"requests per construct in the ratio; most frequent: {kinds}",
            unit="requests",
        )
    ]


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = cli_rows(Path(tmp)) if CDK.exists() else []
        rows += python_rows(Path(tmp))
    return rows + count_rows()


if __name__ == "__main__":
    for row in run():
        print(row)
