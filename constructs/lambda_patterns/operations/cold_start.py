"""Cold-start estimates of the functions in a synthesized cloud assembly, beside what SnapStart and
provisioned concurrency would change and cost (``lambda-patterns cost --cold-start``).

The init is measured here: a fresh interpreter imports the function's handler module from its staged package
(``cdk.out/asset.<hash>``) with the function's environment, which is what Lambda's INIT phase runs (module
level code, clients included). It is then scaled as the thumbnail benchmark scales CPU time: Lambda gives one
full vCPU at 1,769 MB and a proportional share below, and an import is CPU-bound, so at 512 MB it runs about
1769/512 = 3.5x slower than on one core here. Lambda's own part of a cold start (placing the sandbox,
fetching the code, starting the runtime) is not included, so a real cold start is longer than the estimate.

Packages built for another platform than this machine's (arm64 wheels on an x86_64 laptop, a newer Python)
cannot be imported here; their native distributions are taken from this interpreter's environment instead
(same import work, host build) and a distribution missing here makes the row say so rather than guess.

Prices (SnapStart for Python, us-east-1, looked up 2026-11-28 with the prices in ``cost``): caching
$0.0000015046 per GB-second for as long as a version with SnapStart is kept (at least 3 hours), restoring
$0.0001397998 per GB each time an execution environment is resumed from the snapshot.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_patterns.operations.cost import (
    PRICES,
    SECONDS_PER_MONTH,
    FunctionSpec,
    gigabytes,
    provisioned_cost,
    text_table,
)

#: Lambda's memory size at which a function has one full vCPU.
FULL_VCPU_MB = 1769
SNAPSTART_CACHE_GB_SECOND = 0.0000015046
SNAPSTART_RESTORE_GB = 0.0001397998
#: Runtimes SnapStart supports among Python's (3.12 and later).
SNAPSTART_MIN_PYTHON = (3, 12)
DEFAULT_RUNS = 3

# The child does what Lambda's INIT does with the handler's module: import it (module-level code runs).
_CHILD = "import importlib, sys; importlib.import_module(sys.argv[1])"


def cpu_stretch(memory_mb: int) -> float:
    """How much slower CPU-bound work runs at ``memory_mb`` than on one full core."""
    return max(1.0, FULL_VCPU_MB / memory_mb)


def handler_module(handler: str) -> str:
    """The module Lambda imports for a ``Handler`` such as ``handler.handler`` or ``pkg/app.main``."""
    return handler.rsplit(".", 1)[0].replace("/", ".")


def function_environment(variables: Mapping[str, Any]) -> dict[str, str]:
    """The function's variables as a child process gets them: a value CloudFormation resolves at deploy
    time (a ``Ref``, a ``GetAtt``) becomes a placeholder, which no handler needs at import to reach AWS."""
    return {
        name: value if isinstance(value, str) else f"cold-start-placeholder-{name.lower()}"
        for name, value in variables.items()
    }


def native_top_levels(package: Path) -> set[str]:
    """Top-level names installed into ``package`` by non-pure wheels (``Root-Is-Purelib: false``)."""
    names: set[str] = set()
    for dist_info in package.glob("*.dist-info"):
        wheel = dist_info / "WHEEL"
        if not wheel.is_file() or "root-is-purelib: true" in wheel.read_text().lower():
            continue
        names.add(dist_info.name)
        record = dist_info / "RECORD"
        for line in record.read_text().splitlines() if record.is_file() else []:
            first = line.split(",", 1)[0].split("/", 1)[0]
            if first and first != ".." and not first.endswith(".dist-info"):
                names.add(first.removesuffix(".py") if first.endswith(".py") else first)
    return names


def importable_view(package: Path, into: Path) -> Path:
    """A folder of links to ``package``'s entries except its native distributions, which the interpreter's
    own environment then provides."""
    native = native_top_levels(package)
    for entry in package.iterdir():
        stem = entry.name.removesuffix(".py")
        if entry.name in native or stem in native or entry.name.split(".", 1)[0] in native:
            continue
        (into / entry.name).symlink_to(entry)
    return into


def _child_environment(variables: Mapping[str, str], path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))}
    env.update(variables)
    env.update(
        PYTHONPATH=str(path),
        AWS_DEFAULT_REGION=variables.get("AWS_REGION", "us-east-1"),
        AWS_REGION=variables.get("AWS_REGION", "us-east-1"),
        AWS_ACCESS_KEY_ID="cold-start",
        AWS_SECRET_ACCESS_KEY="cold-start",
        # Nothing at import should call AWS; if something does, it fails here rather than reaching it.
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def measure_init(
    package: Path, handler: str, variables: Mapping[str, str], runs: int = DEFAULT_RUNS
) -> float:
    """Median seconds from interpreter start to the handler module imported, in fresh interpreters.

    Raises RuntimeError with the child's last error line when the module cannot be imported here.
    """
    with tempfile.TemporaryDirectory(prefix="lambda-patterns-init-") as tmp:
        view = importable_view(package, Path(tmp))
        env = _child_environment(variables, view)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", _CHILD, handler_module(handler)],
                env=env,
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if result.returncode != 0:
                lines = result.stderr.strip().splitlines() or ["no output"]
                raise RuntimeError(lines[-1])
            times.append(time.perf_counter() - started)
        return statistics.median(times)


@dataclass(frozen=True)
class ColdStart:
    """One function's cold start and what the two ways of avoiding it cost a month."""

    spec: FunctionSpec
    runtime: str
    init_seconds: float | None
    problem: str = ""

    @property
    def lambda_init_ms(self) -> float | None:
        """The estimated INIT phase on Lambda at the function's memory, in ms."""
        if self.init_seconds is None:
            return None
        return self.init_seconds * cpu_stretch(self.spec.memory_mb) * 1000

    @property
    def snapstart_supported(self) -> bool:
        """Whether Lambda offers SnapStart for this runtime (Python 3.12 and later)."""
        version = self.runtime.removeprefix("python").split(".")
        try:
            return (int(version[0]), int(version[1])) >= SNAPSTART_MIN_PYTHON
        except (IndexError, ValueError):
            return False

    @property
    def snapstart_cache_month(self) -> float:
        """USD a month to keep one published version's snapshot cached."""
        return gigabytes(self.spec.memory_mb) * SECONDS_PER_MONTH * SNAPSTART_CACHE_GB_SECOND

    @property
    def snapstart_restore_per_thousand(self) -> float:
        """USD per 1,000 cold starts served by restoring the snapshot."""
        return 1000 * gigabytes(self.spec.memory_mb) * SNAPSTART_RESTORE_GB

    @property
    def provisioned_one_month(self) -> float:
        """USD a month for one environment of provisioned concurrency kept warm (before its duration)."""
        return provisioned_cost(1, self.spec.memory_mb, PRICES[self.spec.architecture])


def _asset_folder(cdk_out: Path, template_dir: Path, code: Mapping[str, Any]) -> Path | None:
    key = code.get("S3Key")
    if not isinstance(key, str):
        return None
    for base in (template_dir, cdk_out):
        folder = base / f"asset.{key.removesuffix('.zip')}"
        if folder.is_dir():
            return folder
    return None


def cold_starts(cdk_out: Path, specs: list[FunctionSpec], runs: int = DEFAULT_RUNS) -> list[ColdStart]:
    """A ColdStart per function of ``specs`` that has a Python package staged in ``cdk_out``."""
    found = []
    for spec in specs:
        if spec.cdk_helper:
            continue
        template_path = next(cdk_out.rglob(f"{spec.stack}.template.json"))
        resource = json.loads(template_path.read_text())["Resources"][spec.logical_id]
        properties = resource.get("Properties", {})
        runtime = str(properties.get("Runtime", ""))
        if not runtime.startswith("python"):
            continue
        package = _asset_folder(cdk_out, template_path.parent, properties.get("Code", {}))
        if package is None:
            found.append(
                ColdStart(spec, runtime, None, "no staged package (inline code or bundling skipped)")
            )
            continue
        variables = function_environment(properties.get("Environment", {}).get("Variables", {}))
        try:
            seconds = measure_init(package, str(properties.get("Handler", "")), variables, runs)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            found.append(ColdStart(spec, runtime, None, f"cannot import here: {error}"))
            continue
        found.append(ColdStart(spec, runtime, seconds))
    return found


def render_cold_starts(rows: list[ColdStart], runs: int = DEFAULT_RUNS) -> str:
    """A plain-text table: init here, estimated on Lambda, and the monthly cost of avoiding it."""
    header = (
        "function",
        "MB",
        "init here ms",
        "on Lambda ms",
        "SnapStart $/month",
        "+$ per 1k",
        "PC=1 $/month",
    )
    lines = []
    for r in rows:
        name = r.spec.path.removesuffix("/Resource")
        if r.init_seconds is None:
            lines.append((name, str(r.spec.memory_mb), "-", r.problem, "", "", ""))
            continue
        snap = f"{r.snapstart_cache_month:.2f}" if r.snapstart_supported else "n/a"
        restore = f"{r.snapstart_restore_per_thousand:.3f}" if r.snapstart_supported else "n/a"
        lines.append(
            (
                name,
                str(r.spec.memory_mb),
                f"{r.init_seconds * 1000:.0f}",
                f"{r.lambda_init_ms:.0f}",
                snap,
                restore,
                f"{r.provisioned_one_month:.2f}",
            )
        )
    return "\n".join(
        [
            *text_table(header, lines),
            "",
            f"Init: median of {runs} fresh interpreters importing the handler here, x {FULL_VCPU_MB}/MB for "
            "Lambda's CPU share; Lambda's own sandbox and code start are not included.",
            "SnapStart: the init runs once when a version is published; each cold start then restores the "
            "snapshot (its time is not measurable here) and costs the '+$ per 1k' per 1,000 cold starts, on "
            "top of caching the snapshot. PC=1: one environment of provisioned concurrency, no cold start for "
            "the invocations it serves.",
        ]
    )


def as_json(rows: list[ColdStart]) -> list[dict[str, Any]]:
    """Machine-readable rows, full precision."""
    return [
        {
            "function": r.spec.key,
            "path": r.spec.path,
            "memory_mb": r.spec.memory_mb,
            "runtime": r.runtime,
            "init_ms_here": None if r.init_seconds is None else r.init_seconds * 1000,
            "init_ms_on_lambda": r.lambda_init_ms,
            "problem": r.problem,
            "snapstart_supported": r.snapstart_supported,
            "snapstart_cache_per_month": r.snapstart_cache_month,
            "snapstart_restore_per_1000_cold_starts": r.snapstart_restore_per_thousand,
            "provisioned_concurrency_1_per_month": r.provisioned_one_month,
        }
        for r in rows
    ]
