"""Lambda's log lines in the local runner, on a user app built in a temporary folder outside the
repository: every invocation writes ``START``, the handler's output, ``END`` and ``REPORT``, as Lambda
writes them to CloudWatch (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html), to the
console and to ``Outcome.log``, which holds that invocation's lines and no other's.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from pathlib import Path

import pytest

from local_apps import inline_worker, synthesize_seen_app

HANDLER = """
import sys
import time

print("module loaded")


def handler(event, context):
    for step in range(event.get("steps", 1)):
        print(f"{event['tag']} step {step}")
        time.sleep(event.get("pause", 0))
    print(f"{event['tag']} to stderr", file=sys.stderr)
    if event.get("fail"):
        raise ValueError(f"{event['tag']} failed")
    return {"tag": event["tag"]}
"""

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d{2}) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB(?:\tInit Duration: (?P<init>\d+\.\d{2}) ms)?$"
)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report-app")
    from aws_cdk import Duration

    return synthesize_seen_app(
        folder,
        "Reporter",
        HANDLER,
        lambda stack, function: None,
        memory_size=256,
        timeout=Duration.seconds(2),
    )


def _report(log: str) -> re.Match:
    (line,) = [line for line in log.splitlines() if line.startswith("REPORT ")]
    match = REPORT.match(line)
    assert match, line
    return match


@pytest.mark.slow
def test_each_invocation_logs_start_its_output_end_and_a_report_lambda_writes(assembly, caplog):
    from lambda_patterns.local import LocalApp

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    with LocalApp(assembly, schedule_scale=0) as app:
        (worker,) = app.workers.values()

        cold = app.invoke(worker.spec.arn, {"tag": "first"}, "test")
        warm = app.invoke(worker.spec.arn, {"tag": "second"}, "test")

    assert cold.ok and warm.ok
    for outcome, tag in ((cold, "first"), (warm, "second")):
        lines = outcome.log.splitlines()
        assert lines[0] == f"START RequestId: {outcome.request_id} Version: $LATEST"
        # stdout and stderr are read apart, so only each stream's own order is Lambda's.
        assert sorted(lines[1:-2]) == [f"{tag} step 0", f"{tag} to stderr"]
        assert lines[-2] == f"END RequestId: {outcome.request_id}"
        report = _report(outcome.log)
        assert report["id"] == outcome.request_id
        assert int(report["billed"]) == max(1, math.ceil(float(report["duration"])))
        assert int(report["memory"]) == 256
        assert 0 < int(report["used"]) <= 256
    # Init Duration on the cold start's first invocation only; the init's own output is no invocation's.
    assert float(_report(cold.log)["init"]) > 0
    assert _report(warm.log)["init"] is None
    assert "module loaded" not in cold.log
    console = [record.getMessage() for record in caplog.records]
    assert any(f"START RequestId: {warm.request_id} Version: $LATEST" in line for line in console)
    assert any(line.endswith(_report(warm.log).group(0)) for line in console)


@pytest.mark.slow
def test_a_failed_invocation_logs_the_error_and_still_reports(assembly):
    from lambda_patterns.local import LocalApp

    with LocalApp(assembly, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        outcome = app.invoke(worker.spec.arn, {"tag": "broken", "fail": True}, "test")

    assert not outcome.ok and outcome.error["errorType"] == "ValueError"
    assert "[ERROR] ValueError: broken failed" in outcome.log
    assert "Traceback (most recent call last)" in outcome.log
    assert _report(outcome.log)["id"] == outcome.request_id


@pytest.mark.slow
def test_the_log_of_an_invocation_holds_nothing_of_another_running_at_the_same_time(assembly):
    from lambda_patterns.local import LocalApp

    tags = [f"call-{index}" for index in range(4)]
    outcomes: dict[str, object] = {}
    with LocalApp(assembly, schedule_scale=0) as app:
        (worker,) = app.workers.values()

        def call(tag: str) -> None:
            outcomes[tag] = app.invoke(worker.spec.arn, {"tag": tag, "steps": 5, "pause": 0.05}, "test")

        threads = [threading.Thread(target=call, args=(tag,)) for tag in tags]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    for tag in tags:
        outcome = outcomes[tag]
        assert outcome.ok, outcome.error
        output = outcome.log.splitlines()[1:-2]
        assert sorted(output) == sorted([f"{tag} step {step}" for step in range(5)] + [f"{tag} to stderr"])
        assert [line for line in output if " step " in line] == [f"{tag} step {step}" for step in range(5)]


@pytest.mark.slow
def test_a_timed_out_invocation_logs_lambdas_timeout_line_and_the_next_is_a_cold_start(assembly):
    from lambda_patterns.local import LocalApp

    with LocalApp(assembly, schedule_scale=0) as app:
        (worker,) = app.workers.values()
        warm_up = app.invoke(worker.spec.arn, {"tag": "warm"}, "test")
        timed_out = app.invoke(worker.spec.arn, {"tag": "slow", "steps": 2, "pause": 1.5}, "test")
        after = app.invoke(worker.spec.arn, {"tag": "after"}, "test")

    assert warm_up.ok and after.ok
    assert timed_out.error["errorType"] == "Sandbox.Timedout"
    lines = timed_out.log.splitlines()
    assert "slow step 0" in lines
    assert lines[-3].endswith(f"{timed_out.request_id} Task timed out after 2.00 seconds")
    assert lines[-2] == f"END RequestId: {timed_out.request_id}"
    assert float(_report(timed_out.log)["duration"]) == 2000.0
    assert _report(after.log)["init"] is not None  # the killed process was replaced


def test_each_invocation_of_a_function_whose_import_fails_logs_the_import_error(tmp_path):
    # Lambda retries a failed init in each invocation and logs its error there, so a LogType Tail shows why
    # the function cannot run; the init's own output stays out of the invocations' logs.
    worker = inline_worker(
        tmp_path, "Inline", "import no_such_module\n\n\ndef handler(event, context):\n    return 1\n"
    )
    try:
        outcomes = [worker.invoke({}, "test") for _ in range(2)]
    finally:
        worker.stop()

    for outcome in outcomes:
        assert outcome.error["errorType"] == "Runtime.ImportModuleError"
        lines = outcome.log.splitlines()
        assert lines[0].startswith("START RequestId: ")
        assert "[ERROR] Runtime.ImportModuleError: No module named 'no_such_module'" in lines[1:-2]
        assert _report(outcome.log)["id"] == outcome.request_id


EXITS = """
import os
import sys


def handler(event, context):
    for number in range(200):
        print("line", number)
    sys.stderr.write("last words")
    os._exit(3)
"""


@pytest.mark.slow
def test_a_handler_that_ends_its_process_has_every_line_it_wrote_in_its_log(tmp_path):
    # The process's exit closes its response pipe and its output pipes at once: the log is complete only
    # once both output pipes have been read to their end.
    worker = inline_worker(tmp_path, "Inline", EXITS)
    try:
        outcomes = [worker.invoke({}, "test") for _ in range(15)]
    finally:
        worker.stop()

    for outcome in outcomes:
        assert outcome.error["errorType"] == "Runtime.ExitError"
        lines = outcome.log.splitlines()
        # Each stream in its order (stdout and stderr are two pipes, read side by side).
        assert [line for line in lines if line.startswith("line ")] == [f"line {n}" for n in range(200)]
        assert "last words" in lines
