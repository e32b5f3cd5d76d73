"""Concurrency in the local runner, on user apps built in a temporary folder outside the repository: a
function whose handler sleeps and returns (or, asynchronously, records in S3) its process id and its start
and end times. Invocations that must run at the same time also meet at a rendezvous (a folder each one
adds a file to, then waits, up to 20 s, for the others' files): only invocations running together all meet,
so a slow cold start on a loaded machine cannot make the check fail.

Lambda runs each concurrent invocation in an execution environment of its own, up to the function's
reserved concurrency (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html); beyond it a
synchronous invoke is throttled with 429 ``TooManyRequestsException``, while the event queue waits and
retries. Locally, without reserved concurrency, up to ``LocalApp(concurrency=...)`` (default 4) run.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_patterns.local.__main__ import app_options, parse_args
from local_apps import synthesize_seen_app

HANDLER = """
import json
import os
import pathlib
import time

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    params = event.get("queryStringParameters") or event  # an HTTP API request, or the event itself
    started = time.time()
    met = None
    if "rendezvous" in params:
        # Wait, up to 20 s, until `parties` invocations have arrived: only together can they all get there.
        folder = pathlib.Path(params["rendezvous"])
        (folder / params["tag"]).touch()
        deadline = time.time() + 20
        while len(list(folder.iterdir())) < int(params["parties"]) and time.time() < deadline:
            time.sleep(0.01)
        met = len(list(folder.iterdir())) >= int(params["parties"])
    time.sleep(float(params.get("sleep", 1)))
    record = {"pid": os.getpid(), "start": started, "end": time.time(), "tag": params.get("tag"), "met": met}
    if params.get("record"):
        s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key="seen/" + params["tag"], Body=json.dumps(record))
    return record
"""


def _synthesize(folder: Path, **function_props) -> Path:
    return synthesize_seen_app(folder, "Sleeper", HANDLER, lambda stack, function: None, **function_props)


@pytest.fixture(scope="module")
def unreserved(tmp_path_factory) -> Path:
    return _synthesize(tmp_path_factory.mktemp("sleeper-app"))


@pytest.fixture(scope="module")
def reserved_one(tmp_path_factory) -> Path:
    return _synthesize(tmp_path_factory.mktemp("reserved-app"), reserved_concurrency=1)


def _at_once(call, count: int) -> list:
    """``call(index)`` from ``count`` threads at the same time; the results in index order."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = call(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _overlap(records: list[dict]) -> bool:
    """Whether every invocation started before any of them ended (all ran at the same time) and each met
    the others at the rendezvous, which none can reach alone."""
    return all(record["met"] for record in records) and max(r["start"] for r in records) < min(
        r["end"] for r in records
    )


def _meeting(folder: Path, parties: int, **event) -> Callable[[int], dict]:
    """The event of call ``index`` of ``parties`` that must all be running at once to return ``met``."""
    folder.mkdir()
    return lambda index: {
        "rendezvous": str(folder),
        "parties": parties,
        "tag": f"call-{index}",
        "sleep": 0.2,
        **event,
    }


def _disjoint(records: list[dict]) -> bool:
    ordered = sorted(records, key=lambda record: record["start"])
    return all(first["end"] <= second["start"] for first, second in zip(ordered, ordered[1:], strict=False))


@pytest.mark.slow
def test_four_invocations_run_at_the_same_time_each_in_a_worker_of_its_own(unreserved, tmp_path):
    from lambda_patterns.local import LocalApp

    with LocalApp(unreserved, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        assert worker.concurrency == 4  # no reserved concurrency: the runner's default

        event = _meeting(tmp_path / "first", 4, sleep=1)
        outcomes = _at_once(lambda index: app.invoke(worker.spec.arn, event(index), "test"), 4)

        assert all(outcome.ok for outcome in outcomes), [outcome.error for outcome in outcomes]
        records = [outcome.result for outcome in outcomes]
        assert _overlap(records)
        assert len({record["pid"] for record in records}) == 4
        assert worker.invocations == 4

        # Warm: the next four reuse the same four processes.
        event = _meeting(tmp_path / "again", 4)
        again = _at_once(lambda index: app.invoke(worker.spec.arn, event(index), "test"), 4)
        assert _overlap([outcome.result for outcome in again])
        assert {outcome.result["pid"] for outcome in again} == {record["pid"] for record in records}


@pytest.mark.slow
def test_four_invoke_calls_through_the_endpoint_run_at_the_same_time(unreserved, tmp_path):
    # The Invoke API answers outside moto's one-request lock, on a thread per request.
    import boto3
    from botocore.config import Config

    from lambda_patterns.local import LocalApp

    with LocalApp(unreserved, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        client = boto3.client(
            "lambda",
            endpoint_url=app.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, read_timeout=60, max_pool_connections=8),
        )
        event = _meeting(tmp_path / "invokes", 4)

        def invoke(index: int) -> dict:
            response = client.invoke(FunctionName=worker.spec.name, Payload=json.dumps(event(index)))
            return json.loads(response["Payload"].read())

        records = _at_once(invoke, 4)

    assert _overlap(records)
    assert len({record["pid"] for record in records}) == 4


@pytest.mark.slow
def test_the_runners_concurrency_caps_the_workers_of_a_function_without_reserved_concurrency(unreserved):
    from lambda_patterns.local import LocalApp

    with LocalApp(unreserved, schedule_scale=0, concurrency=2) as app:
        (worker,) = app.workers.values()
        outcomes = _at_once(lambda index: app.invoke(worker.spec.arn, {"sleep": 0.5}, "test"), 4)

        assert all(outcome.ok for outcome in outcomes)  # no reserved concurrency: waited, not throttled
        assert len({outcome.result["pid"] for outcome in outcomes}) == 2
        assert worker.process_count == 2


@pytest.mark.slow
def test_with_reserved_concurrency_1_invocations_run_one_after_the_other(reserved_one):
    from lambda_patterns.local import LocalApp

    with LocalApp(reserved_one, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        assert worker.concurrency == 1

        # As an event source mapping or the event queue calls it: each waits for the one environment.
        outcomes = _at_once(lambda index: worker.invoke({"sleep": 0.3}, "test"), 3)

        assert all(outcome.ok for outcome in outcomes)
        records = [outcome.result for outcome in outcomes]
        assert _disjoint(records)
        assert len({record["pid"] for record in records}) == 1


@pytest.mark.slow
def test_a_synchronous_invoke_beyond_reserved_concurrency_is_throttled_as_lambda_throttles_it(reserved_one):
    from lambda_patterns.local import LocalApp

    with LocalApp(reserved_one, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        busy = threading.Thread(target=app.invoke, args=(worker.spec.arn, {"sleep": 2}, "test"))
        busy.start()
        while worker.process_count == 0:  # the one environment is taken as soon as it counts
            time.sleep(0.01)

        outcome = app.invoke(worker.spec.arn, {"sleep": 0}, "test")
        busy.join(timeout=30)

        assert not outcome.ok
        assert outcome.error["errorType"] == "TooManyRequestsException"
        assert outcome.error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert worker.invocations == 1
        # Once the environment is free, the same call runs.
        assert app.invoke(worker.spec.arn, {"sleep": 0}, "test").ok


@pytest.mark.slow
def test_reserved_concurrency_0_throttles_every_invocation(tmp_path):
    from lambda_patterns.local import LocalApp

    assembly = _synthesize(tmp_path, reserved_concurrency=0)
    with LocalApp(assembly, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        synchronous = app.invoke(worker.spec.arn, {"sleep": 0}, "test")
        from_a_poller = worker.invoke({"sleep": 0}, "test")

    assert synchronous.error["errorType"] == "TooManyRequestsException"
    assert from_a_poller.error["errorType"] == "TooManyRequestsException"
    assert worker.invocations == 0 and worker.process_count == 0


@pytest.mark.slow
def test_four_async_events_run_at_the_same_time(unreserved, tmp_path):
    from lambda_patterns.local import LocalApp

    with LocalApp(unreserved, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        bucket = app.find("Sleeper/Seen", "AWS::S3::Bucket")["Ref"]
        invoker = app.async_invoker(worker)
        event = _meeting(tmp_path / "events", 4, record=True)
        for index in range(4):
            invoker.submit(event(index), "test")

        s3 = app.client("s3")
        deadline = time.monotonic() + 60
        keys: list[str] = []
        while len(keys) < 4 and time.monotonic() < deadline:
            keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            time.sleep(0.2)
        records = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]

        assert sorted(record["tag"] for record in records) == [f"call-{index}" for index in range(4)]
        assert _overlap(records)
        assert len({record["pid"] for record in records}) == 4


@pytest.mark.slow
def test_four_api_requests_at_the_same_time_run_in_four_workers(tmp_path):
    from lambda_patterns.local import LocalApp
    from lambda_patterns.resources.http_api import SecureHttpApi

    def with_api(stack, function) -> None:
        SecureHttpApi(stack, "Api").add_lambda_routes(function, {"/sleep": "GET"})

    assembly = synthesize_seen_app(tmp_path, "Served", HANDLER, with_api)
    with LocalApp(assembly, schedule_scale=0) as app:
        url = app.api_url("Served", "/sleep") + "sleep"
        event = _meeting(tmp_path / "requests", 4)

        def get(index: int) -> dict:
            query = urllib.parse.urlencode(event(index))
            with urllib.request.urlopen(f"{url}?{query}", timeout=60) as response:
                return json.loads(response.read())

        records = _at_once(get, 4)

    assert _overlap(records)
    assert len({record["pid"] for record in records}) == 4


def test_the_command_line_sets_the_concurrency_and_rejects_less_than_one():
    assert app_options(parse_args([]))["concurrency"] == 4
    assert app_options(parse_args(["--concurrency", "2"]))["concurrency"] == 2
    with pytest.raises(SystemExit):
        parse_args(["--concurrency", "0"])
