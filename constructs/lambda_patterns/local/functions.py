"""Functions of the assembly, each run by a warm worker process of its own, plus Lambda's async retries."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambda_patterns.local import worker as worker_module
from lambda_patterns.local.billing import invocation_line
from lambda_patterns.local.intrinsics import REGION
from lambda_patterns.local.taskroot import build_task_root, host_notes

log = logging.getLogger("lambda_patterns.local")
WORKER_SCRIPT = Path(worker_module.__file__).resolve()
#: Lambda's limit for the init phase (importing the handler), which is not part of the function's timeout.
INIT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Lambda::Function`` as the runner runs it, every value resolved."""

    stack: str
    logical_id: str
    path: str
    name: str
    arn: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: float
    architecture: str
    environment: Mapping[str, str]
    code_folder: Path | None = None
    inline_code: str | None = None
    retry_attempts: int = 2
    on_failure: str | None = None
    on_success: str | None = None
    dead_letter: str | None = None


@dataclass
class Outcome:
    """The result of one invocation."""

    ok: bool
    result: Any = None
    error: Mapping[str, Any] | None = None
    duration_ms: float = 0.0
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: What the invocation wrote to its log (the handler's stdout and stderr), for ``LogType: Tail``.
    log: str = ""

    def batch_item_failures(self) -> list[Any] | None:
        """The ``itemIdentifier`` values of a partial batch response, or None if the result is not one."""
        if not self.ok or not isinstance(self.result, dict) or "batchItemFailures" not in self.result:
            return None
        failures = self.result["batchItemFailures"] or []
        if not isinstance(failures, list):
            return [None]
        return [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]

    def summary(self) -> str:
        """``ok``, ``error (Type: message)`` or ``N item failures``."""
        if not self.ok:
            error = self.error or {}
            return f"error ({error.get('errorType', 'Error')}: {error.get('errorMessage', '')})"
        failures = self.batch_item_failures()
        if failures:
            return f"{len(failures)} item failure{'s' if len(failures) != 1 else ''}"
        return "ok"


def runtime_environment(spec: FunctionSpec, endpoint: str, task_root: Path) -> dict[str, str]:
    """The variables Lambda sets, the function's own, and moto's endpoint with throwaway credentials."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    env.update(spec.environment)
    # Last, so no template value can point a handler at a real account.
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    )
    return env


class FunctionWorker:
    """Runs one function's handler in its own Python process, warm between invocations, one at a time.

    A worker that times out or dies is killed and replaced on the next invocation (a new cold start).
    """

    def __init__(self, spec: FunctionSpec, endpoint: str, workdir: Path) -> None:
        self.spec = spec
        self._endpoint = endpoint
        self._task_root = workdir / spec.name
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._requests: Any = None
        self._responses: queue.Queue[dict | None] = queue.Queue()
        self.invocations = 0
        #: How many invocations of the function may run at the same time (``invoke`` is thread-safe).
        self.concurrency = 1
        #: The function's IAM check (``iam_report.FunctionIam``); None: its calls go out unchecked.
        self.iam: Any = None

    def prepare(self) -> None:
        """Builds the task root: the staged asset without its platform wheels, or the inline code."""
        if self.spec.code_folder is not None:
            distributions = build_task_root(self.spec.code_folder, self._task_root)
            for note in host_notes(distributions):
                log.info("%s: %s", self.spec.name, note)
        else:
            self._task_root.mkdir(parents=True, exist_ok=True)
            (self._task_root / "index.py").write_text(self.spec.inline_code or "")

    def _start(self) -> float:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        started = time.perf_counter()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(WORKER_SCRIPT),
                str(request_read),
                str(response_write),
                str(self._task_root),
                self.spec.handler,
                *([str(self.iam.config_path)] if self.iam is not None else []),
            ],
            pass_fds=(request_read, response_write),
            env=runtime_environment(self.spec, self._endpoint, self._task_root),
            cwd=self._task_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.close(request_read)
        os.close(response_write)
        self._requests = os.fdopen(request_write, "w", encoding="utf-8")
        self._responses = queue.Queue()
        responses = os.fdopen(response_read, "r", encoding="utf-8")
        threading.Thread(target=self._read_responses, args=(responses, self._responses), daemon=True).start()
        for stream in (self._process.stdout, self._process.stderr):
            threading.Thread(target=self._pump_logs, args=(stream,), daemon=True).start()
        return started

    @staticmethod
    def _read_responses(responses: Any, inbox: queue.Queue) -> None:
        with responses:
            for line in responses:
                inbox.put(json.loads(line))
        inbox.put(None)

    def _pump_logs(self, stream: Any) -> None:
        with stream:
            for raw in stream:
                log.info("  [%s] %s", self.spec.name, raw.decode("utf-8", "replace").rstrip())

    def _kill(self) -> None:
        if self._process is None:
            return
        if self._requests is not None:
            with contextlib.suppress(OSError):
                self._requests.close()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=10)
        self._process = None
        self._requests = None

    def _ensure_started(self) -> dict | None:
        """Starts a worker if there is none; returns an init error document, or None when ready."""
        if self._process is not None and self._process.poll() is None:
            return None
        self._kill()
        started = self._start()
        try:
            ready = self._responses.get(timeout=INIT_TIMEOUT_S)
        except queue.Empty:
            self._kill()
            return {"errorType": "Runtime.InitTimeout", "errorMessage": f"init exceeded {INIT_TIMEOUT_S:g} s"}
        if ready is None:
            self._kill()
            return {"errorType": "Runtime.ExitError", "errorMessage": "the worker exited during init"}
        self._take_iam(ready)
        log.info(
            "%s: cold start, init %.0f ms (%.0f ms with process start)",
            self.spec.name,
            ready.get("init_ms", 0.0),
            (time.perf_counter() - started) * 1000,
        )
        return None if ready.get("ready") else ready.get("error")

    def invoke(self, event: Any, trigger: str) -> Outcome:
        """Runs the handler with ``event`` and logs the invocation line; never raises for handler errors."""
        with self._lock:
            self.invocations += 1
            outcome = self._invoke(event)
        log.info(
            invocation_line(
                self.spec.name,
                trigger,
                outcome.duration_ms,
                outcome.summary(),
                self.spec.memory_mb,
                self.spec.architecture,
            )
        )
        return outcome

    def _invoke(self, event: Any) -> Outcome:
        init_error = self._ensure_started()
        request_id = str(uuid.uuid4())
        if init_error is not None:
            return Outcome(ok=False, error=init_error, request_id=request_id)
        request = {
            "id": request_id,
            "request_id": request_id,
            "function_arn": self.spec.arn,
            "deadline": time.time() + self.spec.timeout_s,
            "event": event,
        }
        started = time.perf_counter()
        try:
            self._requests.write(json.dumps(request) + "\n")
            self._requests.flush()
        except OSError as error:
            self._kill()
            return Outcome(ok=False, error={"errorType": "Runtime.ExitError", "errorMessage": str(error)})
        try:
            response = self._responses.get(timeout=self.spec.timeout_s)
        except queue.Empty:
            self._kill()
            return Outcome(
                ok=False,
                error={
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {self.spec.timeout_s:.2f} seconds",
                },
                duration_ms=self.spec.timeout_s * 1000,
                request_id=request_id,
            )
        if response is None:
            self._kill()
            return Outcome(
                ok=False,
                error={"errorType": "Runtime.ExitError", "errorMessage": "the worker process exited"},
                duration_ms=(time.perf_counter() - started) * 1000,
                request_id=request_id,
            )
        self._take_iam(response)
        return Outcome(
            ok=response["ok"],
            result=response.get("result"),
            error=response.get("error"),
            duration_ms=response.get("duration_ms", 0.0),
            request_id=request_id,
        )

    def _take_iam(self, document: dict) -> None:
        # Calls made during init (module-level clients at work) come with the readiness document.
        if self.iam is not None and document.get("iam"):
            self.iam.record(document["iam"])

    def stop(self) -> None:
        """Ends the worker process."""
        with self._lock:
            self._kill()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def async_record(
    spec: FunctionSpec, event: Any, outcome: Outcome, attempts: int, condition: str | None
) -> dict:
    """The document Lambda sends to an async invocation's destination."""
    context: dict[str, Any] = {
        "requestId": outcome.request_id,
        "functionArn": f"{spec.arn}:$LATEST",
        "approximateInvokeCount": attempts,
    }
    if condition:
        context["condition"] = condition
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not outcome.ok:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": _now(),
        "requestContext": context,
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": outcome.result if outcome.ok else outcome.error,
    }


class AsyncInvoker:
    """Lambda's event queue for one function: invoke, retry up to ``retry_attempts`` times, then hand the
    event to the on-failure destination (or the dead-letter queue). Retries wait ``retry_delay`` seconds,
    doubling, instead of Lambda's one and two minutes."""

    def __init__(
        self,
        worker: FunctionWorker,
        deliver: Callable[[str, Any], None],
        retry_delay: float = 0.5,
    ) -> None:
        self._worker = worker
        self._deliver = deliver
        self._retry_delay = retry_delay
        self._inbox: queue.Queue[tuple[Any, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"async-{worker.spec.name}")
        self._stopping = threading.Event()
        self._thread.start()

    def submit(self, event: Any, trigger: str) -> None:
        """Queues an event, as ``InvocationType=Event`` does."""
        self._inbox.put((event, trigger))

    def _run(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            event, trigger = item
            try:
                self._handle(event, trigger)
            except Exception:
                log.exception("%s: async delivery failed", self._worker.spec.name)

    def _handle(self, event: Any, trigger: str) -> None:
        spec = self._worker.spec
        attempts = 0
        delay = self._retry_delay
        while True:
            attempts += 1
            outcome = self._worker.invoke(
                event, trigger if attempts == 1 else f"{trigger} (retry {attempts - 1})"
            )
            if outcome.ok:
                if spec.on_success:
                    self._deliver(spec.on_success, async_record(spec, event, outcome, attempts, "Success"))
                return
            if attempts > spec.retry_attempts or self._stopping.is_set():
                break
            if self._stopping.wait(delay):
                break
            delay *= 2
        if spec.on_failure:
            self._deliver(spec.on_failure, async_record(spec, event, outcome, attempts, "RetriesExhausted"))
            log.info(
                "%s: event sent to on-failure destination %s after %d attempts",
                spec.name,
                spec.on_failure,
                attempts,
            )
        elif spec.dead_letter:
            self._deliver(spec.dead_letter, event)
            log.info(
                "%s: event sent to dead-letter queue %s after %d attempts",
                spec.name,
                spec.dead_letter,
                attempts,
            )
        else:
            log.warning("%s: event dropped after %d attempts: no on-failure destination", spec.name, attempts)

    def stop(self) -> None:
        """Stops after the event in progress; queued events are not delivered."""
        self._stopping.set()
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                break
        self._inbox.put(None)
        self._thread.join(timeout=30)
