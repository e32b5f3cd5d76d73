"""The declared range is true: a user's app using every public construct synthesizes with the oldest
aws-cdk-lib, constructs and boto3 that pyproject.toml declares, and with the newest this repository pins.

Given the wheel built from this checkout, installed into a fresh virtualenv outside the repository that sees
only the versions under test (``make compat-env`` installs the floors into ``.compat/oldest``; the newest
are this environment's pins), when ``tests/compat/user_app/app.py`` runs there, then it writes a template
per stack and imports the library from the wheel, not from this checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from compat.floors import floors
from compat.venvs import build_wheel, site_packages, user_venv

ROOT = Path(__file__).resolve().parent.parent
OLDEST = ROOT / ".compat" / "oldest"
USER_APP = Path(__file__).resolve().parent / "compat" / "user_app"
PROBE = (
    "import json, importlib.metadata as m, lambda_patterns; "
    "print(json.dumps({'file': lambda_patterns.__file__, "
    "**{n: m.version(n) for n in ('aws-cdk-lib', 'constructs', 'boto3')}}))"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


LOCAL_RUN = """
import json
from lambda_patterns.local import LocalApp

with LocalApp("cdk.out", stacks=["ServicesStack"], port_base=0, schedule_scale=0) as app:
    # `python app.py` writes no construct paths into the templates (the CDK CLI does): go by logical id.
    (worker,) = [w for name, w in app.workers.items() if "OrdersFunction" in name]
    event = {"Records": [{"messageId": "m-1", "body": "{}", "eventSource": "aws:sqs"}]}
    outcome = worker.invoke(event, "compat test")
    queues = app.client("sqs").list_queues().get("QueueUrls", [])
    print(json.dumps({"ok": outcome.ok, "result": outcome.result, "queues": len(queues)}))
"""


def _run_locally(python: Path, app: Path, env: dict) -> dict:
    """The user's synthesized app run by the local runner from the wheel's ``local`` extra, one invocation."""
    result = subprocess.run(
        [python, "-c", LOCAL_RUN], cwd=app, capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _synth(python: Path, tmp_path: Path) -> tuple[dict, list[str]]:
    app = tmp_path / "user-app"
    shutil.copytree(USER_APP, app)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CDK_OUTDIR"] = str(app / "cdk.out")
    probe = subprocess.run(
        [python, "-c", PROBE], cwd=app, check=True, capture_output=True, text=True, env=env
    )
    result = subprocess.run([python, "app.py"], cwd=app, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(probe.stdout), sorted(p.name for p in (app / "cdk.out").glob("*.template.json"))


@pytest.mark.slow
def test_a_user_app_synthesizes_and_runs_locally_with_the_oldest_declared_versions(wheel, tmp_path):
    if not (OLDEST / ".installed").exists():
        if os.environ.get("CI"):
            pytest.fail("make compat-env did not install the oldest declared versions into .compat/oldest")
        pytest.skip("the oldest declared versions are not installed: run make compat-env (make test does)")
    python = user_venv(tmp_path, site_packages(OLDEST / "bin" / "python"), wheel)

    versions, templates = _synth(python, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    local = _run_locally(python, tmp_path / "user-app", env)

    assert local == {"ok": True, "result": {"batchItemFailures": []}, "queues": local["queues"]}
    assert local["queues"] >= 3  # the trigger's queue, its dead-letter queue, the user's own
    expected = dict(pin.split("==") for pin in floors([]))
    assert {name: versions[name] for name in expected} == expected
    assert str(ROOT) not in versions["file"]
    assert templates == [
        "PatternsStack.template.json",
        "ServicesStack.template.json",
        "StepsStack.template.json",
    ]


@pytest.mark.slow
def test_a_user_app_synthesizes_with_the_newest_pinned_versions(wheel, tmp_path):
    python = user_venv(tmp_path, sysconfig.get_paths()["purelib"], wheel)

    versions, templates = _synth(python, tmp_path)

    pins = dict(
        line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line
    )
    assert versions["aws-cdk-lib"] == pins["aws-cdk-lib"]
    assert str(ROOT) not in versions["file"]
    assert templates == [
        "PatternsStack.template.json",
        "ServicesStack.template.json",
        "StepsStack.template.json",
    ]


def test_every_runtime_dependency_and_extra_declares_a_floor_the_compat_job_installs():
    pins = floors(["local"])

    assert [pin.split("==")[0] for pin in pins] == [
        "aws-cdk-lib",
        "constructs",
        "boto3",
        "moto[server]",
        "jsonschema",
        "airspeed-ext",
    ]
