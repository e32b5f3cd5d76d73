"""Foundation figures: each handler's zipped package size, and its cold init against its own floor (the
interpreter, ``import boto3`` and the same clients), all measured in this run. Synth time: bench_synth."""

from __future__ import annotations

import io
import json
import os
import resource as rusage
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.common import ROOT, cdk_env, timed
from lambda_patterns.steps.bytecode import compile_package

LAMBDA_SRC = ROOT / "lambda_src"
RUNS = 3
IMPORT_RUNS = 11


def _zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.tell()


def package_rows(assembly: Path) -> list[dict]:
    """Each function's asset from the synthesized assembly, zipped as the CDK CLI would upload it."""
    rows = []
    for template_path in sorted(assembly.glob("*.template.json")):
        template = json.loads(template_path.read_text())
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            key = resource["Properties"]["Code"].get("S3Key", "")
            asset = assembly / f"asset.{key.removesuffix('.zip')}"
            if not asset.is_dir():
                continue
            size = _zipped_size(asset)
            rows.append(
                {
                    "section": "package",
                    "name": f"{template_path.name.split('.')[0]}/{logical_id} zipped",
                    "value": size / 1024,
                    "unit": "KiB",
                    "baseline_name": "Lambda's 50 MB zipped limit",
                    "baseline": 50 * 1024,
                    "ratio": size / (50 * 1024 * 1024),
                    "note": "",
                }
            )
    return rows


INIT_TARGET = 1.05
# What Lambda's Python runtime (awslambdaric: bootstrap.py, lambda_runtime_client.py,
# lambda_runtime_marshaller.py, lambda_runtime_log_utils.py) has imported before it imports the handler, so
# a handler pays nothing for these: both the floor and the init start from them.
RUNTIME_IMPORTS = (
    "import datetime, decimal, enum, importlib, json, logging, math, time, traceback\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
)
# Runs in a child: records every client and resource the handler's module creates at import, as JSON.
_RECORD_CLIENTS = r"""
import json, sys, boto3, boto3.session
made = []
def recording(kind, real):
    def make(self_or_name, *args, **kwargs):
        service = self_or_name if isinstance(self_or_name, str) else (args[0] if args else kwargs["service_name"])
        made.append([kind, service])
        return real(self_or_name, *args, **kwargs)
    return make
boto3.session.Session.client = recording("client", boto3.session.Session.client)
boto3.session.Session.resource = recording("resource", boto3.session.Session.resource)
import handler
print(json.dumps(made))
"""


def _task_root(folder: Path, into: Path) -> Path:
    """The function's code as Lambda unpacks it into /var/task: its folder with lambda_common beside the
    handler, and no bytecode. The package step leaves ``__pycache__`` out and /var/task is read-only, so every
    cold start compiles these sources; a stray ``__pycache__`` in lambda_src must not hide that here."""
    root = into / folder.name
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(folder, root, ignore=ignore)
    shutil.copytree(LAMBDA_SRC / "common" / "lambda_common", root / "lambda_common", ignore=ignore)
    return root


def _handler_env(path: list[Path]) -> dict[str, str]:
    return cdk_env(
        PYTHONPATH=os.pathsep.join(str(p) for p in path),
        PYTHONDONTWRITEBYTECODE="1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="benchmark",
        AWS_SECRET_ACCESS_KEY="benchmark",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        # Configuration the handlers require at import; the values are never used to reach AWS here.
        DEST_BUCKET="benchmark",
        TABLE_NAME="benchmark",
        COUNTS_TABLE="benchmark",
        MALFORMED_QUEUE_URL="http://127.0.0.1:9/queue/benchmark",
        REJECTED_QUEUE_URL="http://127.0.0.1:9/queue/benchmark-rejected",
        PURCHASES_TABLE="benchmark",
        AGGREGATES_TABLE="benchmark",
        DIMENSIONS="category",
        VALUE_ATTRIBUTE="amount",
        TIME_ATTRIBUTE="created_at",
    )


def floor_code(made: list[list[str]], uses_boto3: bool) -> str:
    """The init floor of a handler: the runtime's own imports, ``import boto3`` (if it uses it) and the same
    clients and resources."""
    if not uses_boto3:
        return RUNTIME_IMPORTS
    lines = [RUNTIME_IMPORTS + "import boto3"] + [f"boto3.{kind}({service!r})" for kind, service in made]
    return "; ".join(lines)


def _uses_boto3(env: dict[str, str]) -> bool:
    code = "import sys, handler; print('boto3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip().endswith("True")


def _wall(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds a fresh interpreter takes to start and run ``code`` (what a cold INIT pays here), and the CPU
    seconds it used: on a shared machine the CPU time is the steadier of the two.

    It then leaves without finalizing (``os._exit``): Lambda's init ends once the handler is imported and the
    interpreter lives on, so the teardown - a full collection over every object, modules cleared - is no
    part of a cold start, and counting it would reward a handler for what it makes cheap to tear down."""
    before = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code + "\nimport os; os._exit(0)"], env=env, check=True, capture_output=True
    )
    wall = time.perf_counter() - start
    after = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_rows() -> list[dict]:
    """Each handler's cold init against its own floor, interleaved run by run so both see the same load: as
    packaged by default (sources only), and with ``bytecode=True``."""
    with tempfile.TemporaryDirectory() as tmp:
        return [
            _import_row(folder, Path(tmp), bytecode)
            for folder in sorted(p for p in LAMBDA_SRC.iterdir() if (p / "handler.py").is_file())
            for bytecode in (False, True)
        ]


def _import_row(folder: Path, tmp: Path, bytecode: bool) -> dict:
    """One handler's row: ``import handler`` in its task root against its floor, both after the runtime's
    own imports. With ``bytecode`` the task root also holds what ``FunctionPackage(bytecode=True)`` writes,
    compiled by the package step's own function with this interpreter standing in for the runtime's."""
    root = _task_root(folder, tmp / ("bytecode" if bytecode else "sources"))
    if bytecode:
        compile_package(Path(sys.executable), root, folder.name)
    env = _handler_env([root])
    name = f"{folder.name} cold init" + (", bytecode=True" if bytecode else "")
    try:
        recorded = subprocess.run(
            [sys.executable, "-c", _RECORD_CLIENTS], env=env, capture_output=True, text=True, check=True
        )
    except subprocess.CalledProcessError as error:
        return {"section": "import", "name": name, "note": f"failed: {error.stderr[-200:]}"}
    made = json.loads(recorded.stdout.strip().splitlines()[-1])
    uses_boto3 = _uses_boto3(env)
    floor, init = [], []
    for _ in range(IMPORT_RUNS):
        floor.append(_wall(floor_code(made, uses_boto3), env))
        init.append(_wall(RUNTIME_IMPORTS + "import handler", env))
    wall = statistics.median(w for w, _ in init) / statistics.median(w for w, _ in floor)
    cpu = statistics.median(c for _, c in init) / statistics.median(c for _, c in floor)
    holds = wall <= INIT_TARGET and cpu <= INIT_TARGET
    clients = ", ".join(f"{service} {kind}" for kind, service in made) or "no clients"
    clients = f"import boto3 + {clients}" if uses_boto3 else "nothing else (no boto3)"
    how = (
        "with the .pyc files FunctionPackage(bytecode=True) writes (compiled here by this interpreter: the "
        f"package step needs the runtime's own version, python{sys.version_info.major}.{sys.version_info.minor} "
        "standing in for it)"
        if bytecode
        else "sources without bytecode as in /var/task (the default package)"
    )
    return {
        "section": "import",
        "name": name,
        "value": statistics.median(w for w, _ in init) * 1000,
        "unit": "ms",
        "baseline_name": f"its floor: interpreter + the runtime's imports + {clients}",
        "baseline": statistics.median(w for w, _ in floor) * 1000,
        "ratio": wall,
        "note": f"median of {IMPORT_RUNS} fresh interpreters each, interleaved; {how}; CPU-time ratio "
        f"{cpu:.3f}; target <= {INIT_TARGET} on wall and CPU ({'holds' if holds else 'MISSED'})",
    }


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp)
        timed([sys.executable, "app.py"], CDK_OUTDIR=str(outdir / "app0"))
        rows = package_rows(outdir / "app0")
    return rows + import_rows()


if __name__ == "__main__":
    for row in run():
        print(row)
