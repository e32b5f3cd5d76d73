"""What the ``bench_*`` modules share: a loopback port for a local moto server, environment variables set
for the length of a measurement, and the environment and timing of a child run as ``cdk synth`` runs app.py."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block, then restore each variable, unsetting those that were
    unset: the handlers read their configuration and AWS endpoint from the environment."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def cdk_env(**extra: str) -> dict[str, str]:
    """This process's environment as ``cdk synth`` gives it to app.py, then ``extra``."""
    env = dict(os.environ)
    # What `cdk synth` passes: cdk.json's feature flags, so app.py synthesizes as the CLI would run it.
    env["CDK_CONTEXT_JSON"] = json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"])
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    # Read by the CDK CLI only; a child that is not the CLI ignores it.
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    env.update(extra)
    return env


def timed(command: list[str], **extra: str) -> float:
    """The seconds ``command`` takes, run in the repository root with :func:`cdk_env` (``extra`` added)."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=cdk_env(**extra), check=True, capture_output=True)
    return time.perf_counter() - start
