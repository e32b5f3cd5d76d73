"""Where the local runner's pieces meet (the worker pool, Lambda's Invoke API on the endpoint, log capture,
shutdown), driven as a user and an attacker would: a function with reserved concurrency 1 whose handler
sleeps, invokes itself, prints without a newline, prints control characters, writes binary junk, leaves a
thread printing after it returns, or ends its process with ``os._exit``.

Lambda answers a synchronous ``Invoke`` beyond the function's reserved concurrency with HTTP 429
``TooManyRequestsException`` (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), not with a
function error; stopping the app ends every thread and worker process it started.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local_apps import endpoint_lambda_client, inline_worker, synthesize_seen_app

HANDLER = r"""
import json
import os
import sys
import threading
import time

import boto3


def handler(event, context):
    action = event.get("do")
    if action == "sleep":
        time.sleep(float(event.get("seconds", 1)))
        if event.get("mark"):
            with open(event["mark"], "w") as mark:
                mark.write("finished")
    elif action == "invoke-self":
        client = boto3.client("lambda", config=boto3.session.Config(retries={"max_attempts": 1}))
        try:
            client.invoke(FunctionName=context.function_name, Payload=b'{"do": "nothing"}')
        except client.exceptions.TooManyRequestsException as error:
            return {"inner": "throttled", "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
        return {"inner": "ran"}
    elif action == "no-newline":
        sys.stdout.write("tail-without-newline")
    elif action == "control":
        print("\x1fnot-an-end\x1f")
        print("after-control")
    elif action == "binary":
        os.write(2, b"\xff\xfe\x00junk\x1f\n")
        print("after-binary")
    elif action == "late-thread":
        threading.Thread(target=lambda: (time.sleep(0.3), print("late-line"))).start()
    elif action == "raise-throttle":
        class TooManyRequestsException(Exception):
            pass

        raise TooManyRequestsException("the handler's own")
    elif action == "exit":
        print("before-exit", flush=True)
        os._exit(3)
    return {"done": action}
"""


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    import aws_cdk as cdk

    def allow_self(stack, function) -> None:
        from aws_cdk import aws_apigateway as apigateway
        from aws_cdk import aws_iam as iam

        function.function.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=["*"])
        )
        apigateway.LambdaRestApi(stack, "Rest", handler=function.function, cloud_watch_role=False)

    return synthesize_seen_app(
        tmp_path_factory.mktemp("seams-app"),
        "Seams",
        HANDLER,
        allow_self,
        reserved_concurrency=1,
        timeout=cdk.Duration.seconds(30),
    )


@pytest.fixture(scope="module")
def app(assembly):
    from lambda_patterns.local import LocalApp

    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as local:
        yield local


def _lambda(app):
    return endpoint_lambda_client(app.endpoint)


def _worker(app):
    (worker,) = app.workers.values()
    return worker


def _busy(app, seconds: float) -> threading.Thread:
    """A synchronous invocation holding the function's one environment for ``seconds``, started and taken."""
    worker = _worker(app)
    before = worker.invocations
    thread = threading.Thread(
        target=app.invoke, args=(worker.spec.arn, {"do": "sleep", "seconds": seconds}, "test")
    )
    thread.start()
    while worker.invocations == before:
        time.sleep(0.01)
    return thread


def _invoke_tail(app, event: dict) -> tuple[dict, str]:
    response = _lambda(app).invoke(
        FunctionName=_worker(app).spec.name, LogType="Tail", Payload=json.dumps(event).encode()
    )
    return json.loads(response["Payload"].read()), base64.b64decode(response["LogResult"]).decode()


# Throttling through the Invoke API ---------------------------------------------------------------------


@pytest.mark.slow
def test_a_throttled_invoke_through_the_endpoint_is_429_too_many_requests_not_a_function_error(app):
    busy = _busy(app, 2)
    try:
        with pytest.raises(ClientError) as raised:
            _lambda(app).invoke(FunctionName=_worker(app).spec.name, Payload=b"{}")
    finally:
        busy.join(timeout=30)

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


@pytest.mark.slow
def test_a_rest_api_request_to_a_throttled_function_is_api_gateways_500_internal_server_error(app):
    # API Gateway cannot read a proxy response from a throttled invocation and answers 500
    # (https://repost.aws/knowledge-center/api-gateway-internal-server-error), not the 502 of a bad response.
    busy = _busy(app, 2)
    try:
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(app.api_url("Seams") + "anything", timeout=30)
    finally:
        busy.join(timeout=30)

    assert raised.value.code == 500
    assert json.loads(raised.value.read()) == {"message": "Internal server error"}


@pytest.mark.slow
def test_a_handler_invoking_itself_beyond_reserved_concurrency_1_is_throttled_with_429(app):
    result, _ = _invoke_tail(app, {"do": "invoke-self"})

    assert result == {"inner": "throttled", "status": 429}


@pytest.mark.slow
def test_a_handler_error_named_too_many_requests_is_still_a_function_error(app):
    # Only Lambda's own throttle is a 429; an exception of that name from the handler is the function's.
    response = _lambda(app).invoke(FunctionName=_worker(app).spec.name, Payload=b'{"do": "raise-throttle"}')

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "TooManyRequestsException"


# Log capture -------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("no-newline", ["tail-without-newline"]),
        ("control", ["\x1fnot-an-end\x1f", "after-control"]),
        ("binary", ["after-binary"]),
    ],
)
def test_what_a_handler_writes_is_in_its_own_tail_between_start_and_end(app, action, expected):
    result, tail = _invoke_tail(app, {"do": action})

    assert result == {"done": action}
    lines = tail.splitlines()
    assert lines[0].startswith("START RequestId: ")
    assert lines[-2].startswith("END RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ")
    for text in expected:
        assert text in lines[1:-2]
    assert not any("lambda-patterns:end:" in line for line in lines)


@pytest.mark.slow
def test_a_line_printed_by_a_thread_after_the_handler_returned_is_not_in_that_invocations_log(app):
    _, first = _invoke_tail(app, {"do": "late-thread"})
    time.sleep(0.6)  # the thread prints while the environment is idle
    _, second = _invoke_tail(app, {"do": "nothing"})

    assert "late-line" not in first
    assert "late-line" not in second  # printed between invocations: the console has it, no invocation


@pytest.mark.slow
def test_a_handler_that_ends_its_process_fails_with_exit_error_and_the_next_invocation_cold_starts(app):
    response = _lambda(app).invoke(
        FunctionName=_worker(app).spec.name, LogType="Tail", Payload=b'{"do": "exit"}'
    )
    error = json.loads(response["Payload"].read())
    tail = base64.b64decode(response["LogResult"]).decode()

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert "before-exit" in tail
    result, again = _invoke_tail(app, {"do": "nothing"})
    assert result == {"done": "nothing"}
    assert "Init Duration" in again.splitlines()[-1]


# Shutdown ----------------------------------------------------------------------------------------------


def _processes_of(task_root: Path) -> list[int]:
    """Process ids of the worker processes whose command line names ``task_root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(task_root).encode() in command and any(part.endswith(b"worker.py") for part in command):
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_stop_with_invocations_in_flight_ends_them_and_every_thread_and_process_it_started(
    assembly, tmp_path
):
    from lambda_patterns.local import LocalApp

    before = set(threading.enumerate())
    app = LocalApp(assembly, schedule_scale=0, retry_delay=0.1).start()
    worker = _worker(app)
    workdir = worker.task_root.parent
    # A synchronous invoke through the endpoint runs for 25 s in the one environment; an event's thread
    # waits for it, and another event waits in the queue.
    mark = tmp_path / "finished"
    sleep = {"do": "sleep", "seconds": 25, "mark": str(mark)}
    answers: list = []

    def call_through_the_endpoint() -> None:
        try:
            answers.append(_lambda(app).invoke(FunctionName=worker.spec.name, Payload=json.dumps(sleep)))
        except Exception as error:  # the endpoint went away with the app
            answers.append(error)

    caller = threading.Thread(target=call_through_the_endpoint)
    caller.start()
    while worker.invocations == 0:
        time.sleep(0.01)
    app.async_invoker(worker).submit(sleep, "test")
    app.async_invoker(worker).submit(sleep, "test")
    while not _processes_of(worker.task_root):
        time.sleep(0.01)
    # An event source's invocation waits for the environment (pollers wait rather than being throttled).
    waited: list = []

    def wait_for_the_environment() -> None:
        try:
            waited.append(worker.invoke({"do": "nothing"}, "test"))
        except RuntimeError as error:  # the workers stopped while it waited
            waited.append(error)

    waiter = threading.Thread(target=wait_for_the_environment)
    waiter.start()

    app.stop()
    waiter.join(timeout=10)
    caller.join(timeout=10)

    # As Lambda's environments end with the function: the invocation in flight is cut, not waited for.
    assert not mark.exists()
    assert len(waited) == 1 and not getattr(waited[0], "ok", False)
    (answer,) = answers  # the cut invocation is a failure, never the handler's result
    assert isinstance(answer, Exception) or answer.get("FunctionError") == "Unhandled"
    left = [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]
    assert left == [], f"threads left running after stop: {left}"
    assert _processes_of(worker.task_root) == []
    assert not workdir.exists()


@pytest.mark.slow
def test_concurrent_first_event_invokes_through_the_endpoint_share_one_event_queue(assembly):
    # The Invoke API answers on the server's request threads, outside moto's lock: the first Event invokes of
    # a function can arrive together, and each must reach the one queue stop() ends.
    from lambda_patterns.local import LocalApp

    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as app:
        worker = _worker(app)
        barrier = threading.Barrier(8)
        invokers: list = []

        def first_event() -> None:
            barrier.wait()
            invokers.append(app.async_invoker(worker))

        threads = [threading.Thread(target=first_event) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert len(invokers) == 8
        assert all(invoker is invokers[0] for invoker in invokers)


@pytest.mark.slow
def test_ctrl_c_stops_the_runner_without_interrupting_a_handler_in_flight_or_a_traceback(assembly, tmp_path):
    # A terminal's Ctrl-C signals the runner's whole process group. A Lambda handler never sees SIGINT, so
    # the worker processes must not: the runner stops them itself.
    import re
    import signal
    import subprocess
    import sys

    runner = subprocess.Popen(
        [sys.executable, "-m", "lambda_patterns.local", "--assembly", str(assembly), "--schedule-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )
    printed: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in runner.stdout:
            printed.append(line)
            if "aws lambda invoke --endpoint-url" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(180) and runner.poll() is None, "".join(printed)
        (endpoint,) = re.findall(r"AWS_ENDPOINT_URL=(\S+)", "".join(printed))
        client = endpoint_lambda_client(endpoint, read_timeout=60)
        name = re.findall(r"function (\S+) \(", "".join(printed))[0]
        client.invoke(FunctionName=name, Payload=b'{"do": "nothing"}')  # a warm worker process
        answers: list = []

        def in_flight() -> None:
            try:
                answers.append(client.invoke(FunctionName=name, Payload=b'{"do": "sleep", "seconds": 3}'))
            except Exception as error:  # the runner went away
                answers.append(error)

        caller = threading.Thread(target=in_flight)
        caller.start()
        while sum("START RequestId" in line for line in printed) < 2:  # the second invocation runs
            time.sleep(0.05)

        os.killpg(runner.pid, signal.SIGINT)
        assert runner.wait(timeout=60) == 0
        caller.join(timeout=60)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=30)

    output = "".join(printed)
    assert "KeyboardInterrupt" not in output
    assert "Traceback" not in output


SPAWNS = """
import subprocess


def handler(event, context):
    subprocess.Popen(["sleep", event["seconds"]])
    return "spawned"
"""


def _processes_named(*command: str) -> list[int]:
    wanted = "\0".join(command).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().rstrip(b"\0") == wanted:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_stopping_a_function_ends_the_processes_its_handler_started(tmp_path):
    # Lambda destroys an execution environment whole; a handler's child process must not outlive the
    # runner's worker process either.
    worker = inline_worker(tmp_path, "Spawner", SPAWNS, timeout_s=10)
    seconds = str(300 + os.getpid() % 600)  # a command line no other test runs
    try:
        assert worker.invoke({"seconds": seconds}, "test").result == "spawned"
        assert _processes_named("sleep", seconds)
    finally:
        worker.stop()

    deadline = time.monotonic() + 10
    while _processes_named("sleep", seconds) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_named("sleep", seconds) == []


@pytest.mark.slow
def test_an_event_queue_first_asked_for_while_the_app_stops_ends_with_it(assembly):
    # A failed event's Lambda destination, delivered while the app stops, asks for that function's event
    # queue after stop() has taken the list of queues to end: its threads must end too.
    from lambda_patterns.local import LocalApp

    before = set(threading.enumerate())
    app = LocalApp(assembly, schedule_scale=0, retry_delay=0.1).start()
    worker = _worker(app)
    stop_workers = worker.stop

    def stop_then_deliver() -> None:
        stop_workers()
        app.async_invoker(worker).submit({"do": "nothing"}, "destination")

    worker.stop = stop_then_deliver
    app.stop()

    left = [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]
    assert left == [], f"threads left running after stop: {left}"


def test_a_worker_process_killed_before_it_started_never_starts(tmp_path):
    # stop() may end a function's processes while an invocation has just taken a new one and not yet
    # spawned it: that one must not start afterwards (it would run its invocation after the stop).
    from lambda_patterns.local.worker_process import WorkerProcess

    (tmp_path / "index.py").write_text("def handler(event, context):\n    return 1\n")
    process = WorkerProcess("Late", tmp_path, "index.handler", {"PATH": os.environ.get("PATH", "")})

    process.kill()
    ready, error = process.start()

    assert ready is None
    assert error["errorType"] == "Runtime.ExitError"
    assert not process.alive
