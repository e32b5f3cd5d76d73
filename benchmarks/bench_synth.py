"""Synth time of app.py against an empty App, measured as users run it (the pinned CDK CLI) and in parts.

Rows, each a median of RUNS against a floor measured in the same run:
- the CLI's first synth into an empty output folder with an empty bundle cache (pip runs), with a warm
  bundle cache (an unchanged package is copied, no pip), and a repeat synth into the same folder, with the
  synth cache (``lambda_patterns/synth_cache.py``) and without it;
- the same app and floor run by Python directly, with CDK's built-in CloudFormation validation on (CDK's
  default) and off (``CDK_VALIDATION=false``): the difference is what the validator costs, the rest is ours;
  and with the synth cache off, the difference being what its recording costs a synth that cannot reuse;
- where the time between the floor and app.py goes, phase by phase in one process each: interpreter start-up
  and exit, ``import aws_cdk``, the app's own imports, building the tree, ``app.synth()``; with the construct
  and resource counts, the jsii round trips of each phase and the Aspect callbacks of the synth, the measure
  of what the library asks of CDK.
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, cdk_env, timed

CDK = ROOT / "node_modules" / ".bin" / "cdk"
RUNS = 3
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"
FIRST_TARGET, REPEAT_TARGET = 1.5, 1.2

# One in-process run of the app in sys.argv[1] ("app.py", or "-" for the empty App), timed by phase: until
# aws_cdk is imported (the jsii runtime and assemblies), until the App is made (the app's own imports), until
# app.synth() (building the tree), synth itself (Aspects, templates, assets, validation), and the jsii
# requests of each phase. Prints one JSON line.
_PHASES = r"""
import time
start = time.perf_counter()
import collections, json, runpy, sys
from jsii._kernel.providers import process
requests = collections.Counter()
phase = ["import"]
send = process._NodeProcess.send
def counting(self, request, response_type):
    requests[phase[0], type(request).__name__] += 1
    return send(self, request, response_type)
process._NodeProcess.send = counting
import aws_cdk as cdk
marks = {"aws_cdk": time.perf_counter()}
apps, assemblies = [], []
real_init, real_synth = cdk.App.__init__, cdk.App.synth
def remember(self, *args, **kwargs):
    marks["imports"] = time.perf_counter()
    phase[0] = "build"
    real_init(self, *args, **kwargs)
    apps.append(self)
def timed_synth(self, *args, **kwargs):
    marks["build"] = time.perf_counter()
    phase[0] = "synth"
    assemblies.append(real_synth(self, *args, **kwargs))
    marks["synth"] = time.perf_counter()
    phase[0] = "counting"
    return assemblies[-1]
cdk.App.__init__, cdk.App.synth = remember, timed_synth
if sys.argv[1] == "-":
    exec(sys.argv[2])
else:
    runpy.run_path(sys.argv[1], run_name="__main__")
constructs = len(apps[0].node.find_all())
resources = sum(len(s.template.get("Resources", {})) for s in assemblies[0].stacks)
node = apps[0].node
bare = time.perf_counter()
for _ in range(500):
    node.id
bare = (time.perf_counter() - bare) / 500
print(json.dumps({
    "aws_cdk": marks["aws_cdk"] - start,
    "imports": marks["imports"] - marks["aws_cdk"],
    "build": marks["build"] - marks["imports"],
    "synth": marks["synth"] - marks["build"],
    "in_process": time.perf_counter() - start - 500 * bare,
    "round_trip": bare,
    "requests": [[p, kind, n] for (p, kind), n in requests.items() if p != "counting"],
    "constructs": constructs,
    "resources": resources,
}))
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
    floor, cold, warm, repeat, uncached = [], [], [], [], []
    for run in range(RUNS):
        floor.append(timed(_cli(f"{python} {shlex.quote(str(empty_script))}", tmp / f"empty{run}")))
        cache = tmp / f"cache{run}"
        cold.append(timed(_cli(f"{python} app.py", tmp / f"cold{run}"), LAMBDA_PATTERNS_CACHE=str(cache)))
        warm.append(timed(_cli(f"{python} app.py", tmp / f"warm{run}"), LAMBDA_PATTERNS_CACHE=str(cache)))
        repeat.append(timed(_cli(f"{python} app.py", tmp / f"warm{run}"), LAMBDA_PATTERNS_CACHE=str(cache)))
        uncached.append(
            timed(
                _cli(f"{python} app.py", tmp / f"warm{run}"),
                LAMBDA_PATTERNS_CACHE=str(cache),
                LAMBDA_PATTERNS_SYNTH_CACHE="off",
            )
        )
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
            f"median of {RUNS}; the synth cache (lambda_patterns/synth_cache.py) finds every input and output "
            f"as recorded and app.py ends before importing aws_cdk; {_verdict(again / base, REPEAT_TARGET)}",
        ),
        _row(
            "cdk synth of app.py, same output folder, nothing changed, synth cache off",
            _median(uncached),
            floor_name,
            base,
            f"median of {RUNS}; reference: LAMBDA_PATTERNS_SYNTH_CACHE=off, a full synth in which CDK reuses "
            "the asset.<hash> folders already staged there",
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
            for name, command, synth_cache in (
                ("empty", [sys.executable, "-c", EMPTY_APP], "on"),
                ("app", [sys.executable, "app.py"], "on"),
                ("app-no-record", [sys.executable, "app.py"], "off"),
            ):
                if name == "app-no-record" and validation == "false":
                    continue
                outdir = tmp / f"py-{name}-{validation}-{run}"
                # The bundle cache is warm from the CLI rows or an earlier run: these rows measure code, not pip.
                # Each run has a new output folder, so the synth cache never reuses; it records.
                times.setdefault((name, validation), []).append(
                    timed(
                        command,
                        CDK_OUTDIR=str(outdir),
                        CDK_VALIDATION=validation,
                        LAMBDA_PATTERNS_SYNTH_CACHE=synth_cache,
                    )
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
        _row(
            "python app.py, the synth cache recording a first synth",
            on_app,
            "python app.py, LAMBDA_PATTERNS_SYNTH_CACHE=off",
            _median(times[("app-no-record", "true")]),
            f"median of {RUNS}, validation on, a new output folder each run; what the audit hook and the record "
            "(digests of the files read and written) add to a synth that cannot reuse",
        ),
    ]


def _phases(tmp: Path, name: str, app: list[str]) -> dict:
    """One run of ``_PHASES`` on ``app``; adds ``outside``: the interpreter's start-up before the script's
    first line and the exit (the jsii kernel's shutdown), the process's wall time less the script's."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _PHASES, *app],
        cwd=ROOT,
        # The synth cache's record is a row of its own (python_rows); here the phases are CDK's and ours.
        env=cdk_env(CDK_OUTDIR=str(tmp / name), LAMBDA_PATTERNS_SYNTH_CACHE="off"),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["outside"] = wall - data["in_process"]
    return data


def _requests(data: dict, phase: str, kind: str | None = None) -> int:
    return sum(n for p, k, n in data["requests"] if p == phase and kind in (None, k))


def phase_rows(tmp: Path) -> list[dict]:
    """Where the time between the floor and app.py goes, phase by phase, in one process each (CDK's validation
    on, its default), and the jsii requests and Aspect callbacks of each phase."""
    runs: dict[str, list[dict]] = {"app": [], "empty": []}
    for run in range(RUNS):
        runs["empty"].append(_phases(tmp, f"phases-empty{run}", ["-", EMPTY_APP]))
        runs["app"].append(_phases(tmp, f"phases-app{run}", ["app.py"]))
    app, empty = runs["app"][0], runs["empty"][0]  # counts are the same in every run

    def median(name: str, key: str) -> float:
        return _median([r[key] for r in runs[name]])

    def kinds(phase: str) -> str:
        counts = sorted(((n, k) for p, k, n in app["requests"] if p == phase), reverse=True)
        return ", ".join(f"{k} {n}" for n, k in counts[:4])

    phases = [
        (
            "outside",
            "interpreter start-up and exit (the jsii kernel's shutdown)",
            "measured as the process's wall time less the script's own",
        ),
        (
            "aws_cdk",
            "import aws_cdk",
            "the jsii runtime and the assemblies of aws-cdk-lib and its dependencies",
        ),
        (
            "imports",
            "the app's imports",
            "the aws_cdk submodules the stacks use, lambda_patterns and, through the web API's item-schema "
            "check (the handler's own validator), lambda_common.dynamo and boto3",
        ),
        (
            "build",
            "building the tree",
            f"{app['constructs']} constructs ({empty['constructs']} in the floor), "
            f"{_requests(app, 'build')} jsii requests: {kinds('build')}",
        ),
        (
            "synth",
            "app.synth()",
            f"Aspects, {app['resources']} resources' templates, assets and CDK's validation (whose start-up is "
            f"most of the floor); {_requests(app, 'synth')} jsii requests, of which "
            f"{_requests(app, 'synth', '_CompleteRequest')} are Aspect callbacks into Python",
        ),
    ]
    # Each phase against the floor's whole run, so that the phases' ratios add up to the app's: what each
    # phase adds to the ratio is its ratio less the floor's own share for it (in the note).
    floor_run = _median([r["in_process"] + r["outside"] for r in runs["empty"]])
    rows = [
        _row(
            f"python app.py, phase: {label}",
            median("app", key),
            "the empty App's whole run (python, validation on)",
            floor_run,
            f"median of {RUNS}, warm bundle cache; the floor's own phase: {median('empty', key):.2f} s; {note}",
        )
        for key, label, note in phases
    ]
    total = sum(_requests(app, phase) for phase in ("import", "build", "synth"))
    floor_total = sum(_requests(empty, phase) for phase in ("import", "build", "synth"))
    round_trip = _median([r["round_trip"] for r in runs["app"] + runs["empty"]])
    rows.append(
        _row(
            "jsii round trips of app.py, their bare cost",
            total * round_trip,
            "the empty App's whole run (python, validation on)",
            floor_run,
            f"{total} requests ({floor_total} in the floor) times a bare round trip ({round_trip * 1e3:.2f} ms, "
            "a property read of a construct, median of 500 reads per run): the share of the build and synth "
            "phases that is the jsii protocol itself, not what CDK does for the request",
        )
    )
    rows.append(
        _row(
            "jsii requests in one synth of app.py",
            total,
            "constructs in the app",
            app["constructs"],
            f"requests per construct in the ratio; the floor makes {floor_total}; Aspect callbacks "
            f"{_requests(app, 'synth', '_CompleteRequest')}",
            unit="requests",
        )
    )
    return rows


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = cli_rows(Path(tmp)) if CDK.exists() else []
        rows += python_rows(Path(tmp))
        rows += phase_rows(Path(tmp))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
