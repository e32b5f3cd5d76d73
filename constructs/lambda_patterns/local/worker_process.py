"""One warm worker process of a function: started (the cold start), invoked one event at a time, killed.

``functions.FunctionWorker`` keeps a pool of these per function. A process serves one invocation at a
time, as a Lambda execution environment does, so whatever it writes on stdout and stderr between the
request and the end sentinel (``worker.END_SENTINEL``) belongs to that invocation alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_patterns.local import worker as worker_module
from lambda_patterns.local.worker import END_SENTINEL

log = logging.getLogger("lambda_patterns.local")
WORKER_SCRIPT = Path(worker_module.__file__).resolve()
#: Lambda's limit for the init phase (importing the handler), which is not part of the function's timeout.
INIT_TIMEOUT_S = 10.0
#: How long to wait for the end sentinels once the response has come; the worker writes them before its
#: response, so only a process that dies in between can make this wait run out.
SENTINEL_TIMEOUT_S = 5.0


@dataclass
class Response:
    """What one invocation of a process produced."""

    ok: bool
    result: Any = None
    error: Mapping[str, Any] | None = None
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    #: The lines the handler wrote on stdout and stderr during the invocation.
    lines: list[str] = field(default_factory=list)
    #: The process is gone (timed out, crashed): the pool must not reuse it.
    dead: bool = False
    #: The AWS calls the IAM check saw during the invocation (``iam_guard``), if it is on.
    iam: Any = None


class _Capture:
    """The lines of the invocation in progress and which of the two streams have ended it."""

    def __init__(self, request_id: str) -> None:
        self.marker = f"{END_SENTINEL}{request_id}"
        self.lines: list[str] = []
        self.ended = {"stdout": threading.Event(), "stderr": threading.Event()}
        self.lock = threading.Lock()


class WorkerProcess:
    """``python -I -u worker.py`` for one function, with its request and response pipes and log pumps.

    ``-u``: the handler's prints reach the console as they happen, and stdout and stderr lines arrive in
    the order they were written, as in Lambda's log stream.
    """

    def __init__(
        self,
        name: str,
        task_root: Path,
        handler: str,
        env: Mapping[str, str],
        iam_config: Path | None = None,
        generation: int = 0,
    ) -> None:
        self.name = name
        self.generation = generation
        self._task_root = task_root
        self._handler = handler
        self._env = dict(env)
        self._iam_config = iam_config
        self._process: subprocess.Popen | None = None
        self._requests: Any = None
        self._responses: queue.Queue[dict | None] = queue.Queue()
        self._capture: _Capture | None = None
        self._capture_lock = threading.Lock()
        self._max_memory_mb = 0
        #: Set when the process's stdout / stderr has been read to its end.
        self._drained: dict[str, threading.Event] = {}
        #: Milliseconds from spawning the process to its readiness (interpreter start plus the handler's
        #: import): Lambda's ``Init Duration``. None until started.
        self.init_ms: float | None = None
        #: Held while the process is spawned or killed; ``_killed`` once killed, so it never starts after.
        self._life = threading.Lock()
        self._killed = False

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> tuple[dict | None, dict | None]:
        """Spawns the process and waits for its readiness: (the readiness document, or None; the init
        error document, or None when the handler is ready)."""
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        init = _Capture("init")  # what the import writes goes to the console only
        with self._capture_lock:
            self._capture = init
        try:
            return self._spawn(request_read, request_write, response_read, response_write, init)
        finally:
            with self._capture_lock:
                self._capture = None

    def _spawn(
        self, request_read: int, request_write: int, response_read: int, response_write: int, init: _Capture
    ) -> tuple[dict | None, dict | None]:
        started = time.perf_counter()
        with self._life:
            if self._killed:  # stopped while its invocation was about to start it
                for fd in (request_read, request_write, response_read, response_write):
                    os.close(fd)
                return None, {"errorType": "Runtime.ExitError", "errorMessage": "the worker was stopped"}
            self._process = self._popen(request_read, response_write)
        os.close(request_read)
        os.close(response_write)
        self._requests = os.fdopen(request_write, "w", encoding="utf-8")
        responses = os.fdopen(response_read, "r", encoding="utf-8")
        threading.Thread(target=self._read_responses, args=(responses,), daemon=True).start()
        self._drained = {"stdout": threading.Event(), "stderr": threading.Event()}
        for label, stream in (("stdout", self._process.stdout), ("stderr", self._process.stderr)):
            threading.Thread(target=self._pump, args=(label, stream), daemon=True).start()
        try:
            ready = self._responses.get(timeout=INIT_TIMEOUT_S)
        except queue.Empty:
            self.kill()
            return None, {
                "errorType": "Runtime.InitTimeout",
                "errorMessage": f"init exceeded {INIT_TIMEOUT_S:g} s",
            }
        if ready is None:
            self.kill()
            return None, {"errorType": "Runtime.ExitError", "errorMessage": "the worker exited during init"}
        self.init_ms = (time.perf_counter() - started) * 1000
        for ended in init.ended.values():
            ended.wait(SENTINEL_TIMEOUT_S)
        log.info(
            "%s: cold start, init %.0f ms (%.0f ms with process start)",
            self.name,
            ready.get("init_ms", 0.0),
            self.init_ms,
        )
        return ready, None if ready.get("ready") else ready.get("error")

    def _popen(self, request_read: int, response_write: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-u",
                str(WORKER_SCRIPT),
                str(request_read),
                str(response_write),
                str(self._task_root),
                self._handler,
                *([str(self._iam_config)] if self._iam_config is not None else []),
            ],
            pass_fds=(request_read, response_write),
            env=self._env,
            cwd=self._task_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # A session of its own: a terminal's Ctrl-C (SIGINT to the runner's process group) must not
            # interrupt a handler, which Lambda never does; the runner ends its processes when it stops.
            start_new_session=True,
        )

    def _read_responses(self, responses: Any) -> None:
        with responses:
            for line in responses:
                self._responses.put(json.loads(line))
        self._responses.put(None)

    def _pump(self, label: str, stream: Any) -> None:
        try:
            self._pump_lines(label, stream)
        finally:
            self._drained[label].set()

    def _pump_lines(self, label: str, stream: Any) -> None:
        with stream:
            for raw in stream:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self._capture_lock:
                    capture = self._capture
                if capture is not None and text.endswith(capture.marker):
                    text = text[: -len(capture.marker)]
                    if text:
                        self._record(capture, text)
                    capture.ended[label].set()
                    continue
                self._record(capture, text)

    def _record(self, capture: _Capture | None, text: str) -> None:
        log.info("  [%s] %s", self.name, text)
        if capture is not None:
            with capture.lock:
                capture.lines.append(text)

    def invoke(self, request: dict, timeout_s: float) -> Response:
        """Sends one request and waits for its response and every line it wrote, at most ``timeout_s``
        seconds for the response (then the process is killed: Lambda's timeout)."""
        capture = _Capture(request["id"])
        with self._capture_lock:
            self._capture = capture
        try:
            return self._exchange(request, timeout_s, capture)
        finally:
            with self._capture_lock:
                self._capture = None

    def _exchange(self, request: dict, timeout_s: float, capture: _Capture) -> Response:
        try:
            self._requests.write(json.dumps(request) + "\n")
            self._requests.flush()
        except (OSError, ValueError) as error:
            self.kill()
            return self._dead(capture, "Runtime.ExitError", str(error), 0.0)
        started = time.perf_counter()
        try:
            response = self._responses.get(timeout=timeout_s)
        except queue.Empty:
            self.kill()
            message = f"Task timed out after {timeout_s:.2f} seconds"
            return self._dead(capture, "Sandbox.Timedout", message, timeout_s * 1000)
        if response is None:
            self.kill()
            elapsed = (time.perf_counter() - started) * 1000
            return self._dead(capture, "Runtime.ExitError", "the worker process exited", elapsed)
        for ended in capture.ended.values():
            ended.wait(SENTINEL_TIMEOUT_S)
        self._max_memory_mb = int(response.get("max_memory_mb") or self._max_memory_mb)
        with capture.lock:
            lines = list(capture.lines)
        return Response(
            ok=response["ok"],
            result=response.get("result"),
            error=response.get("error"),
            duration_ms=response.get("duration_ms", 0.0),
            max_memory_mb=self._max_memory_mb,
            lines=lines,
            iam=response.get("iam"),
        )

    def _dead(self, capture: _Capture, error_type: str, message: str, duration_ms: float) -> Response:
        # The process is gone (killed or exited): what it wrote last is in its pipes until read to the end.
        for drained in self._drained.values():
            drained.wait(SENTINEL_TIMEOUT_S)
        with capture.lock:
            lines = list(capture.lines)
        return Response(
            ok=False,
            error={"errorType": error_type, "errorMessage": message},
            duration_ms=duration_ms,
            max_memory_mb=self._max_memory_mb,
            lines=lines,
            dead=True,
        )

    def kill(self) -> None:
        """Ends the process and every process its handler started (its session's group, as Lambda
        destroys an environment whole), closing its request pipe first, and waits for it."""
        with self._life:
            self._killed = True
        if self._process is None:
            return
        if self._requests is not None:
            with contextlib.suppress(OSError, ValueError):
                self._requests.close()
        # The worker leads its own group (start_new_session): the group outlives it while children live.
        with contextlib.suppress(OSError):
            os.killpg(self._process.pid, signal.SIGKILL)
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=10)
