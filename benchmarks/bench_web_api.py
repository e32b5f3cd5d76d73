"""Web API handler: throughput and latency of GET and PUT against moto's DynamoDB, and cold import time.

Every figure has a baseline from the same run: the handler's requests against the bare boto3 calls they
wrap (a consistent GetItem for GET; a PutItem for PUT with If-Match, which the handler makes as one
conditional PutItem), on the same moto server; and the handler's cold import (which builds its boto3
client) against ``import boto3`` alone. The absolute numbers are moto's, not DynamoDB's: a ratio says
how much the handler adds on top of the calls it has to make.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.common import environment, free_port

ROOT = Path(__file__).resolve().parent.parent
WEB_API = ROOT / "lambda_src" / "web_api_backend"
COMMON = ROOT / "lambda_src" / "common"
REQUESTS = 500
WARMUP = 25
SEED_ITEMS = 100
IMPORT_RUNS = 5
TABLE = "bench-web-api-items"
SECTION = "web_api"


class _Context:
    """The attributes the handler reads from Lambda's context object."""

    function_name = "bench-web-api"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())


def _event(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    segments = path.strip("/").split("/")
    all_headers = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    return {
        "resource": "/items/{id}" if len(segments) == 2 else "/items",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"id": segments[1]} if len(segments) == 2 else None,
        "stageVariables": None,
        "requestContext": {"path": f"/prod{path}", "stage": "prod", "requestId": str(uuid.uuid4())},
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def _load_handler():
    for path in (str(COMMON), str(WEB_API)):
        if path not in sys.path:
            sys.path.insert(0, path)
    spec = importlib.util.spec_from_file_location("bench_web_api_handler", WEB_API / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(calls) -> list[float]:
    latencies = []
    for call in calls:
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _import_micros(statement: str, module: str, env: dict) -> float:
    """Cumulative µs of importing ``module`` in a fresh interpreter, from ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == module:
            return float(parts[1])
    raise RuntimeError(f"no import time line for {module}: {result.stderr[-500:]}")


def _import_rows() -> list[dict]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join((str(WEB_API), str(COMMON))),
        "TABLE_NAME": TABLE,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # The first run of each writes .pyc files; measure only after it, alternating so drift hits both.
    _import_micros("import handler", "handler", env)
    _import_micros("import boto3", "boto3", env)
    handler_runs, boto3_runs = [], []
    for _ in range(IMPORT_RUNS):
        handler_runs.append(_import_micros("import handler", "handler", env))
        boto3_runs.append(_import_micros("import boto3", "boto3", env))
    handler_us, boto3_us = statistics.median(handler_runs), statistics.median(boto3_runs)
    return [
        _row(
            "cold import of handler.py",
            handler_us,
            "µs",
            "import boto3",
            boto3_us,
            f"median of {IMPORT_RUNS} fresh interpreters (python -X importtime, cumulative); "
            "includes creating the DynamoDB client at module level",
        )
    ]


def _row(name: str, value: float, unit: str, baseline_name: str, baseline: float, note: str) -> dict:
    return {
        "section": SECTION,
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline_name": baseline_name,
        "baseline": round(baseline, 3),
        "ratio": round(value / baseline, 3) if baseline else float("nan"),
        "note": note,
    }


def _latency_rows(label: str, handler_s: list[float], base_label: str, base_s: list[float]) -> list[dict]:
    note = f"{len(handler_s)} sequential requests after {WARMUP} warm-up, moto server on 127.0.0.1"
    measures = (
        ("requests/s", "req/s", lambda latencies: len(latencies) / sum(latencies)),
        ("p50 latency", "ms", lambda latencies: _percentile(latencies, 0.5) * 1000),
        ("p99 latency", "ms", lambda latencies: _percentile(latencies, 0.99) * 1000),
    )
    return [
        _row(f"{label} {measure}", of(handler_s), unit, base_label, of(base_s), note)
        for measure, unit, of in measures
    ]


def _http_rows() -> list[dict]:
    # The same server as the tests and the local runner: on 127.0.0.1, its requests applied one at a time.
    from lambda_patterns.local.moto_server import SerializedMotoServer

    port = free_port()
    server = SerializedMotoServer(port=port)
    server.start()
    overrides = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        "ITEM_SCHEMA": json.dumps(
            {
                "type": "object",
                "required": ["name", "price"],
                "properties": {"name": {"type": "string", "maxLength": 80}, "price": {"type": "number"}},
            }
        ),
    }
    try:
        with environment(overrides):
            import boto3

            client = boto3.client("dynamodb")
            client.create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            api = _load_handler()
            # Quiet the per-request log lines and EMF documents: a benchmark measures, it does not log.
            with open(os.devnull, "w") as sink:
                for log_handler in api.logger.handlers:
                    log_handler.stream = sink
                api.metrics._stream = sink
                return _measure(api, client)
    finally:
        server.stop()


def _measure(api, client) -> list[dict]:
    def call(event):
        answer = api.handler(event, _Context())
        assert answer["statusCode"] < 300, answer
        return answer

    ids = [
        json.loads(call(_event("POST", "/items", {"name": f"item {n}", "price": n}))["body"])["id"]
        for n in range(SEED_ITEMS)
    ]
    versions = dict.fromkeys(ids, 1)
    rng = random.Random(7)
    picks = [rng.choice(ids) for _ in range(WARMUP + REQUESTS)]

    gets = [lambda i=i: call(_event("GET", f"/items/{i}")) for i in picks]
    raw_gets = [
        lambda i=i: client.get_item(TableName=TABLE, Key={"id": {"S": i}}, ConsistentRead=True) for i in picks
    ]

    def put(item_id: str, n: int) -> None:
        answer = call(
            _event(
                "PUT",
                f"/items/{item_id}",
                {"name": f"renamed {n}", "price": n},
                {"If-Match": f'"{versions[item_id]}"'},
            )
        )
        versions[item_id] = int(answer["headers"]["ETag"].strip('"'))

    puts = [lambda i=i, n=n: put(i, n) for n, i in enumerate(picks)]
    raw_puts = [
        lambda i=i, n=n: client.put_item(
            TableName=TABLE,
            Item={"id": {"S": f"raw-{i}"}, "name": {"S": f"renamed {n}"}, "price": {"N": str(n)}},
        )
        for n, i in enumerate(picks)
    ]
    results = {}
    for name, calls in (("get", gets), ("raw_get", raw_gets), ("put", puts), ("raw_put", raw_puts)):
        _timed(calls[:WARMUP])
        results[name] = _timed(calls[WARMUP:])
    return _latency_rows(
        "GET /items/{id}", results["get"], "boto3 GetItem", results["raw_get"]
    ) + _latency_rows("PUT /items/{id} with If-Match", results["put"], "boto3 PutItem", results["raw_put"])


def run() -> list[dict]:
    """Rows for the benchmark report (see the harness contract in the guide)."""
    return _http_rows() + _import_rows()


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row, ensure_ascii=False))
