"""Lambda's own API for the functions the runner runs, answered on moto's endpoint: ``Invoke``,
``ListFunctions``, ``GetFunction`` and ``GetFunctionConfiguration``, so ``aws lambda invoke --endpoint-url
<endpoint>``, any SDK's Lambda client and a handler's own ``boto3.client("lambda")`` (its
``AWS_ENDPOINT_URL`` is that endpoint) reach the local functions, as ``sam local start-lambda`` does with
Docker.

``LambdaApi`` is the WSGI application of ``SerializedMotoServer``; it sits *outside* the one-request lock
(``moto_server._Serialized``) and hands every other request to moto through it. It has to: an invocation
lasts as long as its handler, and the handler calls moto (and may invoke another function through this
very endpoint) while it runs, so answering it under the lock would stall every AWS call meanwhile and
deadlock on the first such call.

A request is Lambda's when its path is one of those four operations' (``/2015-03-31/functions...``, from
botocore's service model) and, when it is signed, its SigV4 credential scope names the ``lambda`` service.
The function is given as Lambda takes it: a name, ``name:qualifier``, an ARN or a partial ARN
(``123456789012:function:name``), with the ``Qualifier`` parameter; qualifiers are ``$LATEST`` and the
aliases and versions the template declares. Functions the runner does not run are Lambda's
``ResourceNotFoundException`` (404), even if created in moto directly (moto cannot run them without
Docker). Emulated as https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html describes: 200 and the
function's response (``RequestResponse``), 202 with the event queued for the function's async invoker and
its retries and destinations (``Event``), 204 (``DryRun``); beyond the function's reserved concurrency
``TooManyRequestsException`` (429, with its ``Reason``); a function error is 200 with
``X-Amz-Function-Error: Unhandled`` and Lambda's error document; ``LogType: Tail`` returns the last 4 KB of
the invocation's log, base64-encoded, in ``X-Amz-Log-Result``; payloads over 6 MB (1 MB for ``Event``) are
``RequestTooLargeException`` (413) and payloads that are not JSON ``InvalidRequestContentException`` (400).
"""

from __future__ import annotations

import base64
import http
import json
import logging
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from lambda_patterns.local.intrinsics import ACCOUNT_ID, REGION
from lambda_patterns.local.lambda_config import ApiError, Catalog, not_found, validation_error

log = logging.getLogger("lambda_patterns.local")

PREFIX = "/2015-03-31/functions"
#: Lambda's invocation payload quotas (request and response), in bytes.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
#: ``LogType: Tail`` returns this much of the end of the log.
TAIL_BYTES = 4096
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LOG_TYPES = ("None", "Tail")
#: The ``FunctionName`` pattern of Lambda's API reference (group 6 the name, group 8 the qualifier).
FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9_.-]+)(:(\$LATEST|[a-zA-Z0-9_-]+))?"
)
#: Invoke's ``Qualifier``: 1 to 128 characters of these (API_Invoke.html).
QUALIFIER = re.compile(r"[a-zA-Z0-9$_-]{1,128}")
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/[^/]+/[^/]+/([^/]+)/aws4_request")


class Runner(Protocol):
    """What the API needs of ``LocalApp``."""

    workers: dict[str, Any]
    stacks: list[Any]
    scopes: dict[str, Any]

    def invoke(self, function_arn: str, event: Any, trigger: str) -> Any: ...

    def async_invoker(self, worker: Any) -> Any: ...


def log_tail(text: str, limit: int = TAIL_BYTES) -> str:
    """Base64 of the last ``limit`` bytes of ``text`` as UTF-8, starting on a character boundary."""
    data = text.encode("utf-8")[-limit:]
    start = 0
    while start < len(data) and data[start] & 0xC0 == 0x80:  # a continuation byte of a cut character
        start += 1
    return base64.b64encode(data[start:]).decode("ascii")


def route(method: str, path: str, authorization: str = "") -> tuple[str, str | None] | None:
    """(operation, function name as given) of a Lambda API request the runner answers, else None."""
    scope = _CREDENTIAL_SCOPE.search(authorization)
    if scope is not None and scope.group(1) != "lambda":
        return None
    if not (path == PREFIX or path.startswith(PREFIX + "/")):
        return None
    parts = path[len(PREFIX) :].strip("/").split("/")
    if parts == [""]:
        return ("ListFunctions", None) if method == "GET" else None
    name = urllib.parse.unquote(parts[0])
    if len(parts) == 1 and method == "GET":
        return "GetFunction", name
    if len(parts) == 2 and parts[1] == "configuration" and method == "GET":
        return "GetFunctionConfiguration", name
    if len(parts) == 2 and parts[1] == "invocations" and method == "POST":
        return "Invoke", name
    return None


def parse_function_name(given: str, qualifier: str | None) -> tuple[str, str | None]:
    """(unqualified local ARN, qualifier or None) of a ``FunctionName`` and ``Qualifier``; a function of
    another Region or account is not found."""
    match = FUNCTION_NAME.fullmatch(given)
    if match is None or len(given) > 256 or (not match.group(1) and not match.group(5) and len(given) > 64):
        raise validation_error(
            given, "functionName", f"Member must satisfy regular expression pattern: {FUNCTION_NAME.pattern}"
        )
    if qualifier is not None and QUALIFIER.fullmatch(qualifier) is None:
        raise validation_error(
            qualifier, "qualifier", f"Member must satisfy regular expression pattern: {QUALIFIER.pattern}"
        )
    region, account = (match.group(3) or "").rstrip(":"), (match.group(4) or "").rstrip(":")
    name, derived = match.group(6), match.group(8)
    if qualifier is not None and derived is not None and qualifier != derived:
        raise ApiError(
            400,
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    function_arn = f"arn:aws:lambda:{region or REGION}:{account or ACCOUNT_ID}:function:{name}"
    if (region and region != REGION) or (account and account != ACCOUNT_ID):
        raise not_found(function_arn)
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}", qualifier or derived


class LambdaApi:
    """WSGI application: Lambda API requests for the runner's functions are answered here, on the
    server's request thread and outside ``backend``'s lock; everything else goes to ``backend`` (moto
    behind its lock). Until ``attach`` every request goes to ``backend``."""

    def __init__(self, backend: Callable[..., Iterable[bytes]]) -> None:
        self._backend = backend
        self._catalog: Catalog | None = None
        #: Lambda API requests answered here; tests read it.
        self.requests = 0
        self._count = threading.Lock()

    def attach(self, runner: Runner) -> None:
        """Serves the Lambda API of ``runner``'s functions from now on."""
        self._catalog = Catalog(runner)

    def detach(self) -> None:
        """Hands every request to the backend again."""
        self._catalog = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        catalog = self._catalog
        found = (
            route(
                environ.get("REQUEST_METHOD", ""),
                environ.get("PATH_INFO", ""),
                environ.get("HTTP_AUTHORIZATION", ""),
            )
            if catalog is not None
            else None
        )
        if catalog is None or found is None:
            return self._backend(environ, start_response)
        with self._count:
            self.requests += 1
        request_id = str(uuid.uuid4())
        body = _read_body(environ)
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        try:
            status, headers, payload = self._answer(catalog, found, environ, query, body)
        except ApiError as error:
            status, headers = error.status, {"x-amzn-ErrorType": error.code}
            document = {"Type": "User", error.member: error.message, **error.fields}
            payload = json.dumps(document).encode()
        except Exception as error:  # a defect of the runner's: Lambda's 500, and the traceback logged
            log.exception("Lambda API: %s failed", found[0])
            status, headers = 500, {"x-amzn-ErrorType": "ServiceException"}
            payload = json.dumps({"Type": "Service", "Message": repr(error)}).encode()
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            "Content-Length": str(len(payload)),
            **headers,
        }
        start_response(f"{status} {http.HTTPStatus(status).phrase}", list(headers.items()))
        return [payload]

    def _answer(
        self,
        catalog: Catalog,
        found: tuple[str, str | None],
        environ: dict[str, Any],
        query: dict[str, list[str]],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        operation, name = found
        if operation == "ListFunctions":
            page = catalog.list_functions(_one(query, "Marker"), _one(query, "MaxItems"))
            return 200, {}, json.dumps(page).encode()
        assert name is not None
        function_arn, qualifier = parse_function_name(name, _one(query, "Qualifier"))
        worker, version = catalog.resolve(function_arn, qualifier)
        if operation == "GetFunction":
            return 200, {}, json.dumps(catalog.get_function(worker, qualifier, version)).encode()
        if operation == "GetFunctionConfiguration":
            document = catalog.configuration(worker, qualifier, version)
            return 200, {}, json.dumps(document).encode()
        return self._invoke(catalog, worker, version, environ, body)

    @staticmethod
    def _invoke(
        catalog: Catalog, worker: Any, version: str, environ: dict[str, Any], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        kind = environ.get("HTTP_X_AMZ_INVOCATION_TYPE") or "RequestResponse"
        if kind not in INVOCATION_TYPES:
            raise validation_error(
                kind, "invocationType", f"Member must satisfy enum value set: [{', '.join(INVOCATION_TYPES)}]"
            )
        log_type = environ.get("HTTP_X_AMZ_LOG_TYPE") or "None"
        if log_type not in LOG_TYPES:
            raise validation_error(
                log_type, "logType", f"Member must satisfy enum value set: [{', '.join(LOG_TYPES)}]"
            )
        limit = ASYNC_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            raise ApiError(
                413,
                "RequestTooLargeException",
                f"{len(body)} byte payload is too large for the {kind} invocation type (limit {limit} bytes)",
            )
        event = _event(body)
        if kind == "DryRun":
            return 204, {"Content-Type": "application/octet-stream"}, b""
        if kind == "Event":
            catalog.runner.async_invoker(worker).submit(event, "Invoke API (Event)")
            return 202, {"Content-Type": "application/octet-stream"}, b""
        outcome = catalog.runner.invoke(worker.spec.arn, event, "Invoke API")
        if outcome is None:  # the app stopped meanwhile
            raise not_found(worker.spec.arn)
        if outcome.throttled:  # Lambda's 429, which the SDKs retry, not a function error
            error = outcome.error or {}
            raise ApiError(
                429,
                "TooManyRequestsException",
                str(error.get("errorMessage", "Rate Exceeded.")),
                fields={"Reason": error.get("Reason", "ReservedFunctionConcurrentInvocationLimitExceeded")},
            )
        headers = {"X-Amz-Executed-Version": version}
        if log_type == "Tail":
            headers["X-Amz-Log-Result"] = log_tail(outcome.log or "")
        if outcome.ok:
            payload = json.dumps(outcome.result).encode()
            if len(payload) <= SYNC_PAYLOAD_LIMIT:
                return 200, headers, payload
            error: dict[str, Any] = {
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": f"Response payload size ({len(payload)} bytes) exceeded maximum allowed "
                f"payload size ({SYNC_PAYLOAD_LIMIT} bytes).",
            }
        else:
            error = dict(outcome.error or {"errorType": "Runtime.Unknown", "errorMessage": "unknown error"})
        if not error.get("requestId"):
            error["requestId"] = outcome.request_id
        return 200, {**headers, "X-Amz-Function-Error": "Unhandled"}, json.dumps(error).encode()


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The whole request body (read even when it will be refused, so the connection stays usable)."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        return stream.read(length)
    return stream.read() if environ.get("wsgi.input_terminated") else b""


def _event(body: bytes) -> Any:
    """The event of an invocation's payload: its JSON value (``{}`` when empty)."""
    if not body.strip():
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ApiError(
            400,
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {error}",
        ) from None
