"""REST APIs (API Gateway v1) served on 127.0.0.1: HTTP request -> proxy event -> handler -> HTTP response."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lambda_patterns.local.api_spec import (
    GATEWAY_ERRORS,
    JSON_HEADERS,
    HttpApiSpec,
    Method,
    RestApiSpec,
    Route,
    gateway_error,
    match_route,
    pick_template,
    select_response,
)
from lambda_patterns.local.intrinsics import ACCOUNT_ID
from lambda_patterns.local.validation import media_type
from lambda_patterns.local.vtl import RenderContext, TemplateError

log = logging.getLogger("lambda_patterns.local")

INTERNAL_ERROR = {"message": "Internal server error"}
#: The gateway responses the runner answers with: type -> (status, message), as API Gateway's defaults.
MISSING_TOKEN = {"message": GATEWAY_ERRORS["MISSING_AUTHENTICATION_TOKEN"][1]}
#: API Gateway's payload limit (10 MB), answered with 413 before the body is read.
MAX_BODY_BYTES = 10 * 1024 * 1024
REQUEST_TOO_LONG = {"message": "Request Too Long"}
#: The answer to a request whose Content-Length is not a byte count.
BAD_REQUEST = {"message": "Bad Request"}


def _multi(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def is_binary(content_type: str | None, binary_media_types: Sequence[str]) -> bool:
    """Whether API Gateway would base64-encode a body of this content type for the function."""
    if not content_type:
        return False
    kind = content_type.split(";")[0].strip().lower()
    for pattern in binary_media_types:
        pattern = pattern.replace("~1", "/").lower()
        if pattern in ("*/*", kind) or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False


@dataclass(frozen=True)
class Request:
    """One HTTP request to a local API, ``path`` without the stage prefix and ``query`` undecoded."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), None when absent."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def proxy_event(
    api: RestApiSpec, route: Route, parameters: Mapping[str, str], request: Request
) -> dict[str, Any]:
    """The REST API (v1) proxy event for one HTTP request to ``route`` (path ``parameters`` matched)."""
    single_headers, multi_headers = _multi(list(request.headers))
    single_query, multi_query = _multi(parse_qsl(request.query, keep_blank_values=True))
    encoded = is_binary(request.header("content-type"), api.binary_media_types)
    body = request.body
    if not body:
        text: str | None = None
    elif encoded:
        text = base64.b64encode(body).decode()
    else:
        text = body.decode("utf-8", "replace")
    now = datetime.now(UTC)
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api.api_id,
            "resourceId": route.path,
            "resourcePath": route.path,
            "stage": api.stage,
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "httpMethod": request.method,
            "path": f"/{api.stage}{request.path}",
            "protocol": "HTTP/1.1",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "domainName": "127.0.0.1",
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent"),
                "accountId": None,
                "user": None,
            },
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a handler's proxy response; 502 for anything else, as API Gateway."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return 502, [("Content-Type", "application/json")], json.dumps(INTERNAL_ERROR).encode()
    headers: list[tuple[str, str]] = []
    for key, value in (result.get("headers") or {}).items():
        headers.append((key, str(value)))
    single = {key.lower() for key, _ in headers}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key.lower() in single:
            continue
        headers.extend((key, str(value)) for value in values)
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    if not any(key.lower() == "content-type" for key, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return result["statusCode"], headers, data


Invoke = Callable[[str, dict[str, Any], str], Any]


def _content_length(header: str | None) -> int | None:
    """The Content-Length header's byte count (0 when absent); None when it is not a count."""
    if header is None:
        return 0
    text = header.strip()
    return int(text) if text.isascii() and text.isdigit() else None


class ApiServer:
    """Serves one REST API on ``127.0.0.1:<port>`` at ``/<stage>/...``, or one HTTP API (``HttpApiSpec``,
    answered by its own ``answer``) at its stage's base path.

    :param invoke: (function ARN, event, trigger) -> Outcome of the function behind a route.
    :param service: (service, action, rendered request) -> (backend status, JSON body) for the AWS service
        integrations the runner emulates (``services.call_service``).
    """

    def __init__(
        self, api: RestApiSpec | HttpApiSpec, port: int, invoke: Invoke, service: Callable | None = None
    ) -> None:
        self.api = api
        self._invoke = invoke
        self._service = service
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name=f"api:{api.name}"
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, stage included (``http://127.0.0.1:<port>/<stage>/``; ``/`` for ``$default``)."""
        return f"http://127.0.0.1:{self.port}{self.api.base_path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def handle(
        self, method: str, raw_path: str, headers: Sequence[tuple[str, str]], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One HTTP request -> (status, headers, body)."""
        split = urlsplit(raw_path)
        if isinstance(self.api, HttpApiSpec):
            request = Request(method, split.path or "/", split.query, headers, body, source_ip)
            return self.api.answer(self.api, self._invoke, request)
        prefix = f"/{self.api.stage}"
        if not (split.path == prefix or split.path.startswith(prefix + "/")):
            return gateway_error(self.api, "MISSING_AUTHENTICATION_TOKEN")
        path = split.path[len(prefix) :] or "/"
        matched = match_route(self.api.routes, path)
        target = matched and (matched[0].methods.get(method) or matched[0].methods.get("ANY"))
        if not matched or target is None:
            return gateway_error(self.api, "MISSING_AUTHENTICATION_TOKEN")
        route, parameters = matched
        request = Request(method, path, split.query, headers, body, source_ip)
        content_type = request.header("content-type")
        if target.body_validator is not None:
            errors = target.body_validator.errors(content_type, body)
            if errors:
                log.info(
                    "%s %s %s: invalid request body: %s", self.api.name, method, route.path, "; ".join(errors)
                )
                return gateway_error(self.api, "BAD_REQUEST_BODY")
        if target.integration_type == "MOCK":
            return target.mock_status, [(key, value) for key, value in target.mock_headers.items()], b""
        event = proxy_event(self.api, route, parameters, request)
        if target.integration_type == "AWS" and target.service:
            return self._aws_integration(target, media_type(content_type), body, event, route)
        outcome = self._invoke(target.function_arn or "", event, f"API {method} {route.path}")
        if outcome is not None and outcome.throttled:
            # No invocation, so no response to read: API Gateway's 500, not a bad response's 502
            # (https://repost.aws/knowledge-center/api-gateway-internal-server-error).
            return 500, list(JSON_HEADERS), json.dumps(INTERNAL_ERROR).encode()
        if outcome is None or not outcome.ok:
            return 502, [("Content-Type", "application/json")], json.dumps(INTERNAL_ERROR).encode()
        return http_response(outcome.result)

    def _aws_integration(
        self, target: Method, media: str, body: bytes, event: dict[str, Any], route: Route
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Request template -> service action -> integration response, as API Gateway's AWS integration;
        the templates see the request (``event``, the proxy event of it) in ``$input`` and ``$context``."""

        def context(payload: str) -> RenderContext:
            return RenderContext.from_event(event, payload, route.resource_id, self.api.stage_variables)

        template = target.request_templates.get(media)
        if template is None and (
            target.passthrough == "NEVER"
            or (target.passthrough == "WHEN_NO_TEMPLATES" and target.request_templates)
        ):
            return gateway_error(self.api, "UNSUPPORTED_MEDIA_TYPE")
        text = body.decode("utf-8", "replace")
        try:
            payload = template.render(context(text)) if template else text
        except TemplateError as error:
            # The template needs the body as JSON and cannot read it (not JSON, nested too deeply, a number
            # Python refuses): API Gateway answers such a body with 400, not with an integration error.
            log.info("%s %s: request template cannot read the body: %s", self.api.name, target.action, error)
            return gateway_error(self.api, "BAD_REQUEST_BODY")
        if self._service is None:
            return 500, JSON_HEADERS, json.dumps(INTERNAL_ERROR).encode()
        backend_status, backend_body = self._service(target.service, target.action, payload)
        response = select_response(target.responses, backend_status)
        if response is None:
            log.warning("%s: no integration response matches status %d", self.api.name, backend_status)
            return 500, JSON_HEADERS, json.dumps(INTERNAL_ERROR).encode()
        if backend_status >= 400:
            log.info(
                "%s %s:%s -> %d %s",
                self.api.name,
                target.service,
                target.action,
                backend_status,
                backend_body,
            )
        response_template = pick_template(response.templates, "application/json")
        try:
            data = response_template.render(context(backend_body)) if response_template else backend_body
        except TemplateError as error:
            log.warning("%s %s: response template failed: %s", self.api.name, target.action, error)
            return 500, JSON_HEADERS, json.dumps(INTERNAL_ERROR).encode()
        headers = [*response.headers.items()]
        if not any(key.lower() == "content-type" for key, _ in headers):
            headers.append(("Content-Type", "application/json"))
        # "replace": an unpaired surrogate from the payload's JSON becomes "?", as Java's UTF-8 encoder does.
        return response.status, headers, data.encode("utf-8", "replace")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                started = time.perf_counter()
                length = _content_length(self.headers.get("Content-Length"))
                if length is None or length > MAX_BODY_BYTES:
                    # The body is left unread: where it ends is unknown (or too far to read), so this
                    # connection cannot carry another request.
                    self.close_connection = True
                    status, headers, data = (
                        (400, JSON_HEADERS, json.dumps(BAD_REQUEST).encode())
                        if length is None
                        else (413, JSON_HEADERS, json.dumps(REQUEST_TOO_LONG).encode())
                    )
                else:
                    status, headers, data = self._answer(self.rfile.read(length) if length else b"")
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                log.info(
                    "%s %s %s -> %d (%.0f ms)",
                    server.api.name,
                    self.command,
                    self.path,
                    status,
                    (time.perf_counter() - started) * 1000,
                )

            def _answer(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                try:
                    return server.handle(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                    )
                except Exception:
                    # A failure of the runner itself: the client gets API Gateway's 500 rather than a
                    # dropped connection, the developer the traceback.
                    log.exception("%s %s %s: the local API failed", server.api.name, self.command, self.path)
                    return 500, JSON_HEADERS, json.dumps(INTERNAL_ERROR).encode()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler
