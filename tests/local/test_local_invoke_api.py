"""The runner's endpoint answers Lambda's API for the functions it runs, as ``sam local start-lambda`` does
but with no Docker: ``Invoke`` (``RequestResponse``, ``Event``, ``DryRun``, function errors, ``LogType:
Tail``, qualifiers, payload checks), ``ListFunctions`` and ``GetFunction``, through a boto3 ``lambda``
client, the AWS CLI on the endpoint ``python -m lambda_patterns.local`` prints, and a handler's own
``boto3.client("lambda")``.

The app is a user app of its own, synthesized in a temporary folder outside the repository: ``Fn`` echoes
its event (printing a marker, raising when asked to, writing ``seen/<key>`` to a bucket when given a key)
behind a ``live`` alias; ``Caller`` invokes ``Fn`` through the endpoint and returns what it answered.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from lambda_patterns.local.lambda_api import (
    ASYNC_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    TAIL_BYTES,
    ApiError,
    log_tail,
    parse_function_name,
    route,
)
from local_apps import endpoint_lambda_client, synthesize_seen_app

ECHO = """
import json
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    print("echo-marker " + json.dumps(event))
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail: " + str(event["fail"]))
    if isinstance(event, dict) and "key" in event:
        s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key="seen/" + event["key"], Body=json.dumps(event))
    return {"echo": event, "function": context.function_name}
"""

CALLER = """
import json
import os

import boto3

lambda_client = boto3.client("lambda")


def handler(event, context):
    response = lambda_client.invoke(FunctionName=os.environ["ECHO"], Payload=json.dumps(event).encode())
    return {
        "status": response["StatusCode"],
        "error": response.get("FunctionError"),
        "payload": json.loads(response["Payload"].read()),
    }
"""

ACCOUNT = "123456789012"


def _synthesize(folder: Path) -> Path:
    from aws_cdk import aws_lambda as lambda_

    from lambda_patterns import ServerlessFunction, permissions

    def wire(stack, echo):
        code = folder / "caller"
        code.mkdir()
        (code / "handler.py").write_text(CALLER)
        ServerlessFunction(
            stack,
            "Caller",
            code=lambda_.Code.from_asset(str(code)),
            environment={"ECHO": echo.function.function_name},
            permissions=[permissions.allow(["lambda:InvokeFunction"], [echo.function.function_arn])],
        )

    # SnapStart gives the function its `live` alias (and a version) without a deployment.
    return synthesize_seen_app(folder, "Invoked", ECHO, wire, snap_start=True, description="Echoes its event")


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    return _synthesize(tmp_path_factory.mktemp("invoke-api-user-app"))


@pytest.fixture(scope="module")
def app(assembly):
    from lambda_patterns.local import LocalApp

    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as local:
        yield local


def _lambda(app):
    """A Lambda client of the endpoint (``local_apps.endpoint_lambda_client``)."""
    return endpoint_lambda_client(app.endpoint)


def _names(app) -> tuple[str, str]:
    echo = next(w.spec.name for w in app.workers.values() if w.spec.path.startswith("Invoked/Fn/"))
    caller = next(w.spec.name for w in app.workers.values() if w.spec.path.startswith("Invoked/Caller/"))
    return echo, caller


def _recording(app, monkeypatch) -> list:
    """The outcomes of the app's synchronous invocations from now on (the real invocations still run)."""
    outcomes = []
    invoke = app.invoke

    def recording(function_arn, event, trigger):
        outcome = invoke(function_arn, event, trigger)
        outcomes.append((trigger, outcome))
        return outcome

    monkeypatch.setattr(app, "invoke", recording)
    return outcomes


def _wait_for_object(app, bucket: str, key: str, timeout: float = 60) -> bool:
    s3 = app.client("s3")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])]
        if key in keys:
            return True
        time.sleep(0.2)
    return False


# Invoke ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_request_response_invocation_returns_the_handlers_result(app):
    echo, _ = _names(app)

    response = app.client("lambda").invoke(FunctionName=echo, Payload=json.dumps({"n": 1}).encode())

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert json.loads(response["Payload"].read()) == {"echo": {"n": 1}, "function": echo}
    # No payload is the empty event.
    empty = app.client("lambda").invoke(FunctionName=echo)
    assert json.loads(empty["Payload"].read()) == {"echo": {}, "function": echo}


@pytest.mark.slow
def test_a_handler_error_is_an_unhandled_function_error_with_lambdas_error_document(app, monkeypatch):
    echo, _ = _names(app)
    outcomes = _recording(app, monkeypatch)

    response = _lambda(app).invoke(FunctionName=echo, Payload=json.dumps({"fail": "please"}).encode())

    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail: please"
    assert isinstance(error["stackTrace"], list) and any("handler" in line for line in error["stackTrace"])
    ((trigger, outcome),) = outcomes
    assert trigger == "Invoke API" and not outcome.ok
    assert error["requestId"] == outcome.request_id


@pytest.mark.slow
def test_an_event_invocation_is_accepted_with_202_and_the_function_runs(app):
    echo, _ = _names(app)
    bucket = app.find("Invoked/Seen", "AWS::S3::Bucket")["Ref"]

    response = _lambda(app).invoke(
        FunctionName=echo, InvocationType="Event", Payload=json.dumps({"key": "event-1"}).encode()
    )

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert _wait_for_object(app, bucket, "seen/event-1")


@pytest.mark.slow
def test_a_dry_run_answers_204_and_runs_nothing(app):
    echo, _ = _names(app)
    bucket = app.find("Invoked/Seen", "AWS::S3::Bucket")["Ref"]
    worker = app.workers[echo]
    before = worker.invocations
    server = app._server
    locked, answered = server.app.requests, server.lambda_api.requests

    response = _lambda(app).invoke(
        FunctionName=echo, InvocationType="DryRun", Payload=json.dumps({"key": "dry-1"}).encode()
    )
    after_dry_run = worker.invocations
    # Answered by the runner in front of moto's lock, never through it.
    assert (server.app.requests, server.lambda_api.requests) == (locked, answered + 1)
    # A real invocation afterwards is queued behind anything the dry run could have started.
    _lambda(app).invoke(FunctionName=echo, Payload=b"{}")

    assert response["StatusCode"] == 204
    assert after_dry_run == before and worker.invocations == before + 1
    listed = app.client("s3").list_objects_v2(Bucket=bucket, Prefix="seen/dry-1")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.slow
def test_the_alias_and_latest_qualifiers_invoke_the_function_and_others_are_not_found(app):
    echo, _ = _names(app)
    client = _lambda(app)
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{echo}"

    live = client.invoke(FunctionName=echo, Qualifier="live", Payload=b'{"q": "live"}')
    latest = client.invoke(FunctionName=f"{arn}:$LATEST", Payload=b'{"q": "latest"}')
    partial = client.invoke(FunctionName=f"{ACCOUNT}:function:{echo}", Payload=b'{"q": "partial"}')
    with pytest.raises(ClientError) as unknown_alias:
        client.invoke(FunctionName=echo, Qualifier="blue", Payload=b"{}")

    assert json.loads(live["Payload"].read())["echo"] == {"q": "live"}
    assert live["ExecutedVersion"] == "1"
    assert json.loads(latest["Payload"].read())["echo"] == {"q": "latest"}
    assert latest["ExecutedVersion"] == "$LATEST"
    assert json.loads(partial["Payload"].read())["echo"] == {"q": "partial"}
    error = unknown_alias.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceNotFoundException",
        404,
    )
    assert error["Error"]["Message"] == f"Function not found: {arn}:blue"


@pytest.mark.slow
def test_an_unknown_function_is_resource_not_found_as_lambda_answers(app):
    client = _lambda(app)

    for call in (
        lambda: client.invoke(FunctionName="no-such-function", Payload=b"{}"),
        lambda: client.get_function(FunctionName="no-such-function"),
        lambda: client.invoke(FunctionName=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{_names(app)[0]}"),
    ):
        with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
            call()
        response = caught.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert response["Type"] == "User"
        assert response["Error"]["Message"].startswith("Function not found: arn:aws:lambda:")


@pytest.mark.slow
def test_a_payload_that_is_not_json_is_invalid_request_content_and_runs_nothing(app):
    echo, _ = _names(app)
    before = app.workers[echo].invocations

    with pytest.raises(_lambda(app).exceptions.InvalidRequestContentException) as caught:
        _lambda(app).invoke(FunctionName=echo, Payload=b"this is not json")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"].startswith("Could not parse request body into json")
    assert app.workers[echo].invocations == before


@pytest.mark.slow
def test_an_event_payload_over_1_mb_is_request_too_large(app):
    echo, _ = _names(app)
    payload = json.dumps({"pad": "x" * ASYNC_PAYLOAD_LIMIT}).encode()

    with pytest.raises(_lambda(app).exceptions.RequestTooLargeException) as caught:
        _lambda(app).invoke(FunctionName=echo, InvocationType="Event", Payload=payload)

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    # The same payload is within the synchronous quota (6 MB).
    response = _lambda(app).invoke(FunctionName=echo, Payload=payload)
    assert len(json.loads(response["Payload"].read())["echo"]["pad"]) == ASYNC_PAYLOAD_LIMIT


@pytest.mark.slow
def test_a_synchronous_payload_or_response_over_6_mb_is_refused_as_lambda_refuses_it(app):
    echo, _ = _names(app)
    client = _lambda(app)
    wrapper = len(json.dumps({"pad": ""}))
    at_limit = json.dumps({"pad": "x" * (SYNC_PAYLOAD_LIMIT - wrapper)}).encode()
    over = json.dumps({"pad": "x" * (SYNC_PAYLOAD_LIMIT - wrapper + 1)}).encode()

    with pytest.raises(client.exceptions.RequestTooLargeException) as caught:
        client.invoke(FunctionName=echo, Payload=over)
    # A payload at the quota is accepted; the handler's echo of it is over the response quota.
    response = client.invoke(FunctionName=echo, Payload=at_limit)

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert len(at_limit) == SYNC_PAYLOAD_LIMIT
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    assert error["errorMessage"].endswith(
        f"exceeded maximum allowed payload size ({SYNC_PAYLOAD_LIMIT} bytes)."
    )


@pytest.mark.slow
def test_log_type_tail_returns_the_end_of_the_invocations_log_in_base64(app, monkeypatch):
    echo, _ = _names(app)
    outcomes = _recording(app, monkeypatch)

    response = _lambda(app).invoke(FunctionName=echo, LogType="Tail", Payload=b'{"tail": 1}')

    tail = base64.b64decode(response["LogResult"], validate=True)
    ((_, outcome),) = outcomes
    assert len(tail) <= TAIL_BYTES
    assert outcome.log.encode().endswith(tail)
    assert len(tail) == min(TAIL_BYTES, len(outcome.log.encode()))
    # The invocation's log lines as Lambda writes them: START, the handler's print, END and REPORT.
    assert 'echo-marker {"tail": 1}' in tail.decode()
    assert tail.decode().splitlines()[-1].startswith(f"REPORT RequestId: {outcome.request_id}")


@pytest.mark.slow
def test_log_type_tail_of_a_long_log_is_its_last_4_kb_cut_on_a_character(app, monkeypatch):
    echo, _ = _names(app)
    invoke = app.invoke
    long_log = "START\n" + "é log line ✓\n" * 1000 + "END\n"

    def with_long_log(function_arn, event, trigger):
        outcome = invoke(function_arn, event, trigger)
        outcome.log = long_log
        return outcome

    monkeypatch.setattr(app, "invoke", with_long_log)
    response = _lambda(app).invoke(FunctionName=echo, LogType="Tail", Payload=b"{}")

    tail = base64.b64decode(response["LogResult"]).decode("utf-8")
    assert long_log.endswith(tail) and tail.endswith("END\n")
    assert TAIL_BYTES - 3 <= len(tail.encode()) <= TAIL_BYTES


@pytest.mark.slow
def test_a_handler_invokes_another_local_function_through_the_endpoint(app):
    echo, caller = _names(app)
    answers = []

    # On its own thread, so a deadlock fails the test instead of hanging it.
    thread = threading.Thread(
        target=lambda: answers.append(_lambda(app).invoke(FunctionName=caller, Payload=b'{"hop": 2}')),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=120)

    assert not thread.is_alive(), "the nested invocation did not come back"
    (response,) = answers
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {
        "status": 200,
        "error": None,
        "payload": {"echo": {"hop": 2}, "function": echo},
    }
    # The handler's call went through the IAM check as lambda:InvokeFunction on the function's ARN.
    used = [
        (item["action"], item["resource"])
        for role in app.iam_report()["roles"]
        if caller in role["functions"]
        for item in role["used"]
    ]
    assert ("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{echo}") in used


# ListFunctions and GetFunction --------------------------------------------------------------------------


@pytest.mark.slow
def test_list_functions_pages_through_the_apps_functions(app):
    client = _lambda(app)

    first = client.list_functions(MaxItems=1)
    second = client.list_functions(MaxItems=1, Marker=first["NextMarker"])
    everything = [
        function["FunctionName"]
        for page in client.get_paginator("list_functions").paginate()
        for function in page["Functions"]
    ]

    assert sorted(everything) == sorted(app.workers) and len(everything) == 2
    assert [f["FunctionName"] for f in first["Functions"] + second["Functions"]] == sorted(app.workers)
    assert "NextMarker" not in second
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.list_functions(Marker="not-a-marker")


@pytest.mark.slow
def test_get_function_describes_the_function_as_lambda_does(app):
    echo, _ = _names(app)
    spec = app.workers[echo].spec
    role = app.workers[echo].iam.document["role_arn"]

    answer = _lambda(app).get_function(FunctionName=echo)
    live = _lambda(app).get_function_configuration(FunctionName=echo, Qualifier="live")

    configuration = answer["Configuration"]
    assert {
        key: configuration[key]
        for key in (
            "FunctionName",
            "FunctionArn",
            "Runtime",
            "Handler",
            "MemorySize",
            "Timeout",
            "Architectures",
            "Role",
            "State",
            "LastUpdateStatus",
            "PackageType",
            "Version",
        )
    } == {
        "FunctionName": echo,
        "FunctionArn": spec.arn,
        "Runtime": spec.runtime,
        "Handler": "handler.handler",
        "MemorySize": spec.memory_mb,
        "Timeout": int(spec.timeout_s),
        "Architectures": [spec.architecture],
        "Role": role,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Version": "$LATEST",
    }
    assert configuration["Environment"]["Variables"]["SEEN_BUCKET"] == app.find("Invoked/Seen")["Ref"]
    assert (configuration["Description"], configuration["TracingConfig"]) == (
        "Echoes its event",
        {"Mode": "Active"},
    )
    assert configuration["CodeSize"] > len(ECHO) - 1
    assert answer["Code"]["RepositoryType"] == "S3"
    assert (live["FunctionArn"], live["Version"]) == (f"{spec.arn}:live", "1")


# The AWS CLI on the printed endpoint ---------------------------------------------------------------------


@pytest.mark.slow
def test_aws_lambda_invoke_through_the_printed_endpoint_returns_the_handlers_result(assembly, tmp_path):
    runner = subprocess.Popen(
        [sys.executable, "-m", "lambda_patterns.local", "--assembly", str(assembly), "--port-base", "0"]
        + ["--schedule-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in runner.stdout:
            printed.append(line)
            if "aws lambda invoke --endpoint-url" in line:  # printed after the endpoint
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(180) and runner.poll() is None, "".join(printed)
        (endpoint,) = re.findall(r"AWS_ENDPOINT_URL=(\S+)", "".join(printed))
        assert any(f"aws lambda invoke --endpoint-url {endpoint}" in line for line in printed)
        echo = next(name for name in re.findall(r"function (\S+) \(", "".join(printed)) if "-Fn" in name)
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"via": "cli"}))
        out = tmp_path / "out.json"

        answer = _cli_invoke(endpoint, echo, event, out)

        assert answer["StatusCode"] == 200 and "FunctionError" not in answer
        assert json.loads(out.read_text()) == {"echo": {"via": "cli"}, "function": echo}
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=60)


def _cli_invoke(endpoint: str, function: str, event: Path, out: Path) -> dict:
    """``aws lambda invoke`` on the endpoint when the AWS CLI is installed; else the same request with
    botocore (what the CLI sends)."""
    aws = shutil.which("aws")
    if aws is None:
        client = boto3.client(
            "lambda",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        response = client.invoke(FunctionName=function, Payload=event.read_bytes())
        out.write_bytes(response["Payload"].read())
        return {key: value for key, value in response.items() if key in ("StatusCode", "FunctionError")}
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    result = subprocess.run(
        [aws, "lambda", "invoke", "--endpoint-url", endpoint, "--function-name", function]
        + ["--payload", f"fileb://{event}", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# The request routing and the parts, on their own ----------------------------------------------------------


def test_lambda_requests_are_recognized_by_path_method_and_signing_service():
    signed = "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/{}/aws4_request, SignedHeaders=host"

    assert route("POST", "/2015-03-31/functions/fn/invocations") == ("Invoke", "fn")
    assert route("GET", "/2015-03-31/functions/fn", signed.format("lambda")) == ("GetFunction", "fn")
    assert route("GET", "/2015-03-31/functions/fn/configuration") == ("GetFunctionConfiguration", "fn")
    assert route("GET", "/2015-03-31/functions/") == ("ListFunctions", None)
    assert route("GET", "/2015-03-31/functions") == ("ListFunctions", None)
    # Another service's request on a like path, and Lambda operations the runner leaves to moto.
    assert route("POST", "/2015-03-31/functions/fn/invocations", signed.format("s3")) is None
    assert route("POST", "/2015-03-31/functions") is None  # CreateFunction
    assert route("GET", "/2015-03-31/functions/fn/aliases") is None
    assert route("GET", "/2015-03-31/event-source-mappings/") is None


def test_function_names_are_read_in_every_form_lambda_accepts():
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"

    assert parse_function_name("fn", None) == (arn, None)
    assert parse_function_name("fn:live", None) == (arn, "live")
    assert parse_function_name(arn, "live") == (arn, "live")
    assert parse_function_name(f"{arn}:$LATEST", None) == (arn, "$LATEST")
    assert parse_function_name(f"{ACCOUNT}:function:fn", "7") == (arn, "7")
    for bad, code in (
        ("fn:live", "InvalidParameterValueException"),  # with Qualifier "blue"
        ("no spaces", "ValidationException"),
        ("f" * 65, "ValidationException"),
        ("arn:aws:lambda:us-east-1:999999999999:function:fn", "ResourceNotFoundException"),
    ):
        with pytest.raises(ApiError) as caught:
            parse_function_name(bad, "blue" if code == "InvalidParameterValueException" else None)
        assert caught.value.code == code


@pytest.mark.parametrize("qualifier", ["..", "../x", "live/..", "a b", "q" * 129])
def test_a_qualifier_lambdas_model_refuses_is_a_validation_error_not_a_lookup(qualifier):
    # Invoke's Qualifier: 1 to 128 characters of [a-zA-Z0-9$_-] (API_Invoke.html).
    with pytest.raises(ApiError) as caught:
        parse_function_name("fn", qualifier)

    assert caught.value.status == 400
    assert caught.value.code == "ValidationException"


def test_the_log_tail_is_the_last_4_kb_starting_on_a_character():
    assert log_tail("") == ""
    assert base64.b64decode(log_tail("short log\n")) == b"short log\n"
    text = "ab" + "€" * 2000  # 3 bytes a character: 4096 bytes cut inside one
    tail = base64.b64decode(log_tail(text))
    assert len(tail) == 4095 and tail.decode() == "€" * 1365
