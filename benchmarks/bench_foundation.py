"""Foundation figures: synth time of the whole app against an empty app, and each handler's zipped package
size and cold import time against ``import boto3``, all measured in this run."""

from __future__ import annotations

import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = ROOT / "lambda_src"
RUNS = 3
IMPORT_RUNS = 5

EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # What `cdk synth` passes: cdk.json's feature flags, so app.py synthesizes as the CLI would run it.
    env["CDK_CONTEXT_JSON"] = json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"])
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    env.update(extra)
    return env


def _timed(command: list[str], **extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=_env(**extra), check=True, capture_output=True)
    return time.perf_counter() - start


def synth_rows(outdir: Path) -> list[dict]:
    """Median wall time of ``python app.py`` against an empty App with one empty Stack."""
    app_times, empty_times = [], []
    for run in range(RUNS):
        app_times.append(_timed([sys.executable, "app.py"], CDK_OUTDIR=str(outdir / f"app{run}")))
        empty_times.append(_timed([sys.executable, "-c", EMPTY_APP], CDK_OUTDIR=str(outdir / f"empty{run}")))
    app, empty = statistics.median(app_times), statistics.median(empty_times)
    return [
        {
            "section": "synth",
            "name": "synth of app.py (every stack, with bundling)",
            "value": app,
            "unit": "s",
            "baseline_name": "empty App with one empty Stack",
            "baseline": empty,
            "ratio": app / empty,
            "note": f"median of {RUNS}; the baseline is mostly jsii's start-up",
        }
    ]


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


_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _import_us(code: str, module: str, path: list[Path]) -> int:
    """Cumulative microseconds of importing ``module`` in a fresh interpreter (``-X importtime``)."""
    env = _env(
        PYTHONPATH=os.pathsep.join(str(p) for p in path),
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
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    total = 0
    for match in _IMPORT_LINE.finditer(result.stderr):
        if match.group(4) == module and match.group(3) == " ":
            total = int(match.group(2))
    return total


def import_rows() -> list[dict]:
    boto3 = statistics.median(_import_us("import boto3", "boto3", []) for _ in range(IMPORT_RUNS))
    rows = []
    for folder in sorted(p for p in LAMBDA_SRC.iterdir() if (p / "handler.py").is_file()):
        path = [folder, LAMBDA_SRC / "common"]
        try:
            micros = statistics.median(
                _import_us("import handler", "handler", path) for _ in range(IMPORT_RUNS)
            )
        except subprocess.CalledProcessError as error:
            rows.append(
                {
                    "section": "import",
                    "name": f"{folder.name} cold import",
                    "note": f"failed: {error.stderr[-200:]}",
                }
            )
            continue
        rows.append(
            {
                "section": "import",
                "name": f"{folder.name} cold import",
                "value": micros / 1000,
                "unit": "ms",
                "baseline_name": "import boto3",
                "baseline": boto3 / 1000,
                "ratio": micros / boto3,
                "note": f"median of {IMPORT_RUNS}, python -X importtime, module-level clients included",
            }
        )
    return rows


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp)
        rows = synth_rows(outdir)
        rows += package_rows(outdir / "app0")
    return rows + import_rows()


if __name__ == "__main__":
    for row in run():
        print(row)
