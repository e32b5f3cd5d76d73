"""`pip install .` gives another CDK app a working `lambda_patterns`, outside this repository."""

import json
import os
import subprocess
import sysconfig
import textwrap
from pathlib import Path

import pytest

from compat.venvs import build_wheel, site_packages, user_venv

ROOT = Path(__file__).resolve().parent.parent

APP = textwrap.dedent(
    """
    import aws_cdk as cdk
    import lambda_patterns
    from lambda_patterns import LambdaService, SqsTrigger

    app = cdk.App(outdir="cdk.out")
    stack = cdk.Stack(app, "ThirdPartyStack")
    service = LambdaService(stack, "Orders", entry="orders")
    service.add_trigger(SqsTrigger, "Incoming")
    app.synth()
    print(lambda_patterns.__file__)
    """
)


@pytest.mark.slow
def test_pip_install_gives_an_outside_app_a_working_library(tmp_path):
    """The fresh virtualenv reaches aws-cdk-lib and the other dependencies through a .pth line naming this
    repository's site-packages, so the test downloads nothing; that folder's own .pth files (the editable
    install of lambda_patterns among them) are not processed from there, so only the fresh install of
    lambda_patterns is importable (tests/compat/venvs.py)."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    python = user_venv(tmp_path, sysconfig.get_paths()["purelib"], build_wheel(wheels))
    venv, site = python.parent.parent, site_packages(python)
    project = tmp_path / "third-party-app"
    (project / "orders").mkdir(parents=True)
    (project / "orders" / "handler.py").write_text(
        "def handler(event, context):\n    return {'batchItemFailures': []}\n"
    )
    (project / "app.py").write_text(APP)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "app.py"], cwd=project, check=True, capture_output=True, text=True, env=env
    )

    imported_from = Path(result.stdout.strip().splitlines()[-1])
    assert str(imported_from).startswith(str(venv))
    template = json.loads((project / "cdk.out" / "ThirdPartyStack.template.json").read_text())
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping", "AWS::SQS::Queue"} <= types
    assert (
        Path(site) / "lambda_patterns" / "_lambda_src" / "common" / "lambda_common" / "metrics.py"
    ).is_file()
