"""Fixtures shared by the whole suite: moto's server on 127.0.0.1, a Lambda context, handler loading."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = ROOT / "lambda_src"
EVENTS = Path(__file__).resolve().parent / "events"

# jsii reads these when the first CDK module loads; the Makefile sets them too, this covers a bare pytest.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session", autouse=True)
def bundle_cache(tmp_path_factory):
    """Function packages built by this session are kept in a cache folder of its own, so each distinct
    package is bundled once per session (not once per synth) and a run never reads or fills the developer's
    ``~/.cache``. A ``LAMBDA_PATTERNS_CACHE`` set by the caller is honoured."""
    if "LAMBDA_PATTERNS_CACHE" in os.environ:
        yield Path(os.environ["LAMBDA_PATTERNS_CACHE"])
        return
    folder = tmp_path_factory.mktemp("bundle-cache")
    os.environ["LAMBDA_PATTERNS_CACHE"] = str(folder)
    yield folder
    del os.environ["LAMBDA_PATTERNS_CACHE"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """moto's real HTTP server, bound to loopback only, for the whole session. Yields its endpoint URL.

    Requests are applied one at a time (``SerializedMotoServer``): moto's threaded server does not apply
    conditional writes atomically, and concurrent tests must meet DynamoDB's semantics, not moto's."""
    from lambda_patterns.local.moto_server import SerializedMotoServer

    port = _free_port()
    server = SerializedMotoServer(port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """Points boto3 at moto's server with throwaway credentials and resets moto's state after the test."""
    import requests

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    yield moto_server
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)


#: The stream aggregator's table in the handler tests (``aggregator_settings`` points the handler at it).
AGGREGATES_TABLE = "aggregates"


@pytest.fixture
def aggregator_settings(monkeypatch) -> str:
    """The stream aggregator's environment as the handler tests configure it: one series per category,
    summing ``amount``, in hourly buckets of ``created_at``. Returns the table's name; it is not created."""
    for name, value in {
        "AGGREGATES_TABLE": AGGREGATES_TABLE,
        "DIMENSIONS": "category",
        "VALUE_ATTRIBUTE": "amount",
        "TIME_ATTRIBUTE": "created_at",
        "BUCKET": "hour",
    }.items():
        monkeypatch.setenv(name, value)
    return AGGREGATES_TABLE


def create_pk_table(name: str, sort_key: bool = True) -> None:
    """An on-demand table keyed by the string ``pk`` and, unless ``sort_key`` is false, the string ``sk``:
    the key schema of every table the stream and queue handlers write to."""
    import boto3

    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
    boto3.client("dynamodb").create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
    )


@dataclass
class LambdaContext:
    """Stands in for the context object Lambda passes to a handler: no emulator provides one.

    It carries the same attributes and method that the runtime's context has.
    """

    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/28/[$LATEST]0123456789abcdef"
    function_version: str = "$LATEST"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def load_event(name: str) -> dict:
    """A sample event from tests/events/<name>.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def load_handler(function: str, module: str = "handler"):
    """Import lambda_src/<function>/<module>.py the way Lambda does: its folder and the shared code on sys.path.

    Each function's modules get a unique name in sys.modules, so two handlers both called handler.py
    never collide.
    """
    folder = LAMBDA_SRC / function
    for path in (str(LAMBDA_SRC / "common"), str(folder)):
        if path not in sys.path:
            sys.path.insert(0, path)
    name = f"lambda_src_{function}_{module}"
    spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
