"""Functions of the assembly, each run by a warm worker process of its own, plus Lambda's async retries."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambda_patterns.local.assembly import SourceFolders
from lambda_patterns.local.billing import end_line, invocation_line, report_line, start_line
from lambda_patterns.local.intrinsics import REGION
from lambda_patterns.local.taskroot import build_task_root, host_notes
from lambda_patterns.local.worker_process import WorkerProcess

log = logging.getLogger("lambda_patterns.local")


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
    #: ``ReservedConcurrentExecutions``, if the template sets it.
    reserved_concurrency: int | None = None
    #: Where the staged asset was built from (the asset metadata of ``steps/source_metadata.py``), for
    #: hot reload; None when the assembly does not say.
    source: SourceFolders | None = None


@dataclass
class Outcome:
    """The result of one invocation."""

    ok: bool
    result: Any = None
    error: Mapping[str, Any] | None = None
    duration_ms: float = 0.0
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: The invocation's log as Lambda writes it: the START line, what the handler wrote on stdout and
    #: stderr during the invocation, the END and REPORT lines (for ``LogType: Tail``).
    log: str = ""
    #: Lambda refused to run it (reserved concurrency in use): a 429 for the caller, not a function error.
    throttled: bool = False

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


#: How many invocations of a function without reserved concurrency run at once (``LocalApp(concurrency=)``).
DEFAULT_CONCURRENCY = 4


def throttled(request_id: str) -> Outcome:
    """What Lambda answers a synchronous invocation beyond the function's reserved concurrency: HTTP 429
    ``TooManyRequestsException`` (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)."""
    return Outcome(
        ok=False,
        error={
            "errorType": "TooManyRequestsException",
            "errorMessage": "Rate Exceeded.",
            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        },
        request_id=request_id,
        throttled=True,
    )


class FunctionWorker:
    """Runs one function's handler in warm Python processes of its own: up to ``concurrency`` invocations
    at the same time, each in its own process, as Lambda runs each concurrent invocation in its own
    execution environment (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).

    ``invoke`` is thread-safe: it takes an idle warm process, else starts one (a cold start) while fewer
    than ``concurrency`` exist, else waits for one to be free. With the function's reserved concurrency
    set, ``concurrency`` is that number, as Lambda never runs more; otherwise the runner's default. A
    synchronous caller (``throttle=True``) beyond a reserved concurrency gets Lambda's 429 instead of
    waiting; asynchronous and event source callers wait, as Lambda's event queue and pollers retry
    throttled invocations. A process that times out or dies is replaced on a later invocation (a new cold
    start); ``replace_workers`` replaces every process, each once its invocation in progress has finished.
    """

    def __init__(
        self, spec: FunctionSpec, endpoint: str, workdir: Path, concurrency: int = DEFAULT_CONCURRENCY
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.spec = spec
        self._endpoint = endpoint
        self._task_root = workdir / spec.name
        reserved = spec.reserved_concurrency
        #: How many invocations of the function may run at the same time: its reserved concurrency if
        #: set, else the runner's default.
        self.concurrency = concurrency if reserved is None else reserved
        self.invocations = 0
        #: The function's IAM check (``iam_report.FunctionIam``); None: its calls go out unchecked.
        self.iam: Any = None
        self._condition = threading.Condition()
        self._idle: list[WorkerProcess] = []
        self._processes: set[WorkerProcess] = set()
        self._generation = 0
        self._stopped = False

    @property
    def task_root(self) -> Path:
        """The folder the function's processes import the handler from."""
        return self._task_root

    @property
    def process_count(self) -> int:
        """How many processes (busy, idle or starting) the function has now."""
        with self._condition:
            return len(self._processes)

    def prepare(self) -> None:
        """Builds the task root: the staged asset without its platform wheels, or the inline code."""
        if self.spec.code_folder is not None:
            distributions = build_task_root(self.spec.code_folder, self._task_root)
            for note in host_notes(distributions):
                log.info("%s: %s", self.spec.name, note)
        else:
            self._task_root.mkdir(parents=True, exist_ok=True)
            (self._task_root / "index.py").write_text(self.spec.inline_code or "")

    def _new_process(self) -> WorkerProcess:
        return WorkerProcess(
            self.spec.name,
            self._task_root,
            self.spec.handler,
            runtime_environment(self.spec, self._endpoint, self._task_root),
            self.iam.config_path if self.iam is not None else None,
            self._generation,
        )

    def _acquire(self, throttle: bool) -> WorkerProcess | None:
        """An idle process, a new one not yet started, or None when throttled."""
        with self._condition:
            while True:
                if self.concurrency == 0:
                    return None  # reserved concurrency 0: Lambda throttles every invocation
                if self._stopped:
                    raise RuntimeError(f"{self.spec.name}: the function's workers are stopped")
                while self._idle:
                    process = self._idle.pop()
                    if process.alive:
                        return process
                    self._processes.discard(process)
                if len(self._processes) < self.concurrency:
                    process = self._new_process()
                    self._processes.add(process)
                    return process
                if throttle and self.spec.reserved_concurrency is not None:
                    return None
                # Woken by a process released, replaced or stopped.
                self._condition.wait()

    def _release(self, process: WorkerProcess) -> None:
        with self._condition:
            keep = process.alive and process.generation == self._generation and not self._stopped
            if keep:
                self._idle.append(process)
            else:
                self._processes.discard(process)
            self._condition.notify()
        if not keep:
            process.kill()

    def replace_workers(self) -> None:
        """Every process is replaced before its next invocation (idle ones now, busy ones when done)."""
        with self._condition:
            self._generation += 1
            old, self._idle = self._idle, []
            self._processes.difference_update(old)
            self._condition.notify_all()
        for process in old:
            process.kill()

    def invoke(self, event: Any, trigger: str, *, throttle: bool = False) -> Outcome:
        """Runs the handler with ``event`` and logs Lambda's START, END and REPORT lines and the cost line;
        never raises for handler errors. ``throttle``: a synchronous invocation, answered with Lambda's
        429 when the reserved concurrency is in use, instead of waiting."""
        request_id = str(uuid.uuid4())
        process = self._acquire(throttle)
        if process is None:
            log.info(
                "%s <- %s: throttled (reserved concurrency %d in use)",
                self.spec.name,
                trigger,
                self.concurrency,
            )
            return throttled(request_id)
        with self._condition:
            self.invocations += 1
        try:
            outcome = self._invoke(process, event, request_id)
        finally:
            self._release(process)
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

    def _invoke(self, process: WorkerProcess, event: Any, request_id: str) -> Outcome:
        init_ms = None
        if process.init_ms is None:
            ready, init_error = process.start()
            if ready is not None:
                self._take_iam(ready.get("iam"))
            if init_error is not None and ready is None:
                return Outcome(ok=False, error=init_error, request_id=request_id)
            init_ms = process.init_ms
        self._say(start_line(request_id))
        request = {
            "id": request_id,
            "request_id": request_id,
            "function_arn": self.spec.arn,
            "deadline": time.time() + self.spec.timeout_s,
            "event": event,
        }
        response = process.invoke(request, self.spec.timeout_s)
        self._take_iam(response.iam)
        lines = [start_line(request_id), *response.lines]
        if response.error and response.error.get("errorType") == "Sandbox.Timedout":
            timed_out = f"{_now()} {request_id} {response.error['errorMessage']}"
            self._say(timed_out)
            lines.append(timed_out)
        tail = [
            end_line(request_id),
            report_line(
                request_id, response.duration_ms, self.spec.memory_mb, response.max_memory_mb, init_ms
            ),
        ]
        for line in tail:
            self._say(line)
        return Outcome(
            ok=response.ok,
            result=response.result,
            error=response.error,
            duration_ms=response.duration_ms,
            request_id=request_id,
            log="\n".join([*lines, *tail]) + "\n",
        )

    def _say(self, line: str) -> None:
        log.info("  [%s] %s", self.spec.name, line)

    def _take_iam(self, calls: Any) -> None:
        # Calls made during init (module-level clients at work) come with the readiness document.
        if self.iam is not None and calls:
            self.iam.record(calls)

    def stop(self) -> None:
        """Ends every worker process of the function; an invocation in progress fails."""
        with self._condition:
            self._stopped = True
            processes, self._idle = list(self._processes), []
            self._processes.clear()
            self._condition.notify_all()
        for process in processes:
            process.kill()


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
    doubling, instead of Lambda's one and two minutes. Up to the function's ``concurrency`` events run at
    the same time, one per consumer thread, as Lambda's queue feeds concurrent execution environments."""

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
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, daemon=True, name=f"async-{worker.spec.name}-{index}")
            for index in range(max(1, worker.concurrency))
        ]
        for thread in self._threads:
            thread.start()

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
                if not self._stopping.is_set():  # else the workers stopped under it: the app is stopping
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

    def signal_stop(self) -> None:
        """Drops the queued events and tells the threads to end after the events in progress, without
        waiting for them."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self._inbox.put(None)

    def stop(self) -> None:
        """Stops after the events in progress; queued events are not delivered."""
        self.signal_stop()
        for thread in self._threads:
            thread.join(timeout=30)
