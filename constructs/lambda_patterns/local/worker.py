"""The process that runs one function's handler, kept warm between invocations.

Started by the runner as ``python -I worker.py <request fd> <response fd> <task root> <handler> [<IAM
document>]`` with the function's environment; with the IAM document, every AWS call the handler makes is
checked against the function's role (``iam_guard.py``). Standard library only: ``-I`` keeps the runner's
own folders off ``sys.path``, which becomes [task root, the interpreter's standard library, its
site-packages], as in Lambda where the task root comes first and the runtime's packages after it.

Requests and responses are JSON lines on their own pipes, so whatever the handler prints on stdout and
stderr stays its log output, as in Lambda. After each invocation the worker writes ``END_SENTINEL`` and
the request id (``init`` after the handler's import), then a newline, on stdout and on stderr, before its
response: the runner, reading
both streams on threads of its own, knows from them that it has every line the invocation wrote.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback

#: Starts the line that closes an invocation's output on stdout and stderr (then the request id).
END_SENTINEL = "\x1flambda-patterns:end:"


def max_memory_mb() -> int:
    """The process's peak resident memory in MB, as Lambda's ``Max Memory Used``.

    Linux's ``VmHWM`` first: ``ru_maxrss`` survives ``exec``, so a worker started from a large process (a
    test run, the runner) would report its parent's peak (Linux reports KB, macOS bytes).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(1, -(-int(line.split()[1]) // 1024))
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kilobytes = peak / 1024 if sys.platform == "darwin" else peak
    return max(1, -(-int(kilobytes) // 1024))


class Context:
    """The attributes and method of the context object the Lambda runtime passes to a handler."""

    def __init__(self, request: dict) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = request["function_arn"]
        self.aws_request_id = request["request_id"]
        self.identity = None
        self.client_context = None
        self._deadline = request["deadline"]

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.time()) * 1000))


def error_payload(error: BaseException, error_type: str | None = None) -> dict:
    """The error document Lambda returns for an unhandled exception."""
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }


def load_handler(task_root: str, handler: str):
    """Imports the handler module from the task root and returns its function."""
    if sys.path[:1] != [task_root]:
        sys.path.insert(0, task_root)
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def install_guard(config_path: str):
    """Loads ``iam_guard.py`` of this folder by its path (this package is not on ``sys.path``) and hooks
    botocore with the function's IAM document."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().with_name("iam_guard.py")
    spec = importlib.util.spec_from_file_location("_lambda_patterns_local_iam_guard", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.install(config_path)


def main() -> None:
    """Initialise (import the handler), report readiness, then serve invocations until the pipe closes."""
    request_fd, response_fd, task_root, handler = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    os.chdir(task_root)
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    responses = os.fdopen(response_fd, "w", encoding="utf-8")

    # The task root first, so the botocore the guard hooks is the one the handler will import.
    sys.path.insert(0, task_root)
    guard = None
    if len(sys.argv) > 5:
        try:
            guard = install_guard(sys.argv[5])
        except Exception as error:  # the handler still runs; the console says its calls are unchecked
            print(
                f"[IAM] the check could not be installed, calls are not checked: {error!r}", file=sys.stderr
            )

    def send(document: dict) -> None:
        if guard is not None:
            document["iam"] = guard.drain()
        if "id" in document:
            document["max_memory_mb"] = max_memory_mb()
            for stream in (sys.stdout, sys.stderr):
                stream.write(f"{END_SENTINEL}{document['id']}\n")
        sys.stdout.flush()
        sys.stderr.flush()
        responses.write(json.dumps(document) + "\n")
        responses.flush()

    started = time.perf_counter()
    init_error = None
    function = None
    try:
        function = load_handler(task_root, handler)
    except Exception as error:
        kind = "Runtime.ImportModuleError" if isinstance(error, ImportError) else "Runtime.Unknown"
        init_error = error_payload(error, kind)
        print(f"[ERROR] {kind}: {error}", file=sys.stderr)
        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        stream.write(f"{END_SENTINEL}init\n")  # the init's output ends here: no invocation's log holds it
    send(
        {"ready": init_error is None, "init_ms": (time.perf_counter() - started) * 1000, "error": init_error}
    )

    for line in requests:
        request = json.loads(line)
        started = time.perf_counter()
        if function is None:
            # Lambda runs the failed init again in each invocation and logs its error there.
            print(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}", file=sys.stderr)
            send({"id": request["id"], "ok": False, "error": init_error, "duration_ms": 0.0})
            continue
        try:
            result = function(request["event"], Context(request))
        except Exception as error:
            duration = (time.perf_counter() - started) * 1000
            print(f"[ERROR] {type(error).__name__}: {error}", file=sys.stderr)
            traceback.print_exc()
            document = {"id": request["id"], "ok": False, "error": error_payload(error)}
        else:
            duration = (time.perf_counter() - started) * 1000
            try:
                json.dumps(result)
                document = {"id": request["id"], "ok": True, "result": result}
            except (TypeError, ValueError) as error:
                document = {
                    "id": request["id"],
                    "ok": False,
                    "error": error_payload(error, "Runtime.MarshalError"),
                }
        document["duration_ms"] = duration
        send(document)


if __name__ == "__main__":
    main()
