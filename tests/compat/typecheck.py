"""Type-check the user app of tests/compat with mypy (strict optional) and pyright: ``make lint`` runs it.

Errors inside the library's own bodies are not the user's concern (mypy follows its imports silently); what
must hold is that a user's calls type-check against the library's signatures.

One pyright diagnostic is aws-cdk-lib's, not ours, and is let through by name: jsii generates each
interface (``ITopic``) as a ``typing.Protocol`` whose method parameters are named differently from the
implementing class's (``add_subscription(subscription)`` vs ``(topic_subscription)``), so pyright refuses an
aws-cdk-lib class wherever its own interface is expected - plain ``aws_cloudwatch_actions.SnsAction(topic)``
fails the same way. ``REPRODUCTION`` makes the same calls with aws-cdk-lib's own classes on every run; only
the (argument, parameter) type pairs pyright refuses there are let through, so the exemption lapses the
day aws-cdk-lib's stubs are fixed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "user_app" / "app.py"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
# `Argument of type "Topic" cannot be assigned to parameter "alarm_topic" of type "ITopic | None"`
_ARGUMENT = re.compile(
    r'^Argument of type "(?P<arg>[^"]+)" cannot be assigned to parameter "\w+" of type "(?P<param>[^"]+)"'
)
# The same calls with aws-cdk-lib's own classes: every (argument type, parameter type) pair pyright refuses
# here is aws-cdk-lib's mismatch, and the same pair is let through in the user app.
REPRODUCTION = """
import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
stack = cdk.Stack(cdk.App(), "S")
actions.SnsAction(sns.Topic(stack, "T"))
fn = lambda_.Function(stack, "F", runtime=lambda_.Runtime.PYTHON_3_12, handler="h.h", code=lambda_.Code.from_inline("x"))
lambda_.EventSourceMapping(stack, "M", target=fn)
events.Rule(stack, "R", targets=[targets.LambdaFunction(fn)])
apigw.LambdaIntegration(fn)
apigw.LambdaRestApi(stack, "A", handler=fn)
"""
#: The library's classes and the aws-cdk-lib class each stands for in the reproduction.
STANDS_FOR = {"ServerlessFunction": "Function"}


def mypy() -> list[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT / "constructs")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict-optional",
            "--follow-imports=silent",
            "--no-incremental",
            str(APP),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    return (
        [] if result.returncode == 0 else [line for line in result.stdout.splitlines() if ": error:" in line]
    )


def pyright(path: Path) -> list[dict]:
    result = subprocess.run(
        [str(PYRIGHT), "--pythonpath", sys.executable, "--outputjson", str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
    )
    return [d for d in json.loads(result.stdout)["generalDiagnostics"] if d["severity"] == "error"]


def _pair(diagnostic: dict) -> tuple[str, str] | None:
    match = _ARGUMENT.match(diagnostic["message"].splitlines()[0])
    if diagnostic["rule"] != "reportArgumentType" or match is None:
        return None
    argument = match["arg"]
    for ours, theirs in STANDS_FOR.items():
        argument = argument.replace(ours, theirs)
    return argument, match["param"].removesuffix(" | None")


def main() -> int:
    problems = [f"mypy: {line}" for line in mypy()]
    with tempfile.TemporaryDirectory() as folder:
        reproduction = Path(folder, "reproduction.py")
        reproduction.write_text(REPRODUCTION)
        upstream = {pair for d in pyright(reproduction) if (pair := _pair(d))}
    for diagnostic in pyright(APP):
        if _pair(diagnostic) in upstream:
            continue
        line = diagnostic["range"]["start"]["line"] + 1
        problems.append(f"pyright: app.py:{line}: {diagnostic['message'].splitlines()[0]}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"type check of {APP.relative_to(ROOT)}: {len(problems)} error(s) (mypy strict optional, pyright)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
