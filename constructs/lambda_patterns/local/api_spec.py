"""What the local REST APIs are made of, read from the templates: methods, routes, integration and gateway
responses, and the path matching API Gateway does (most specific resource first)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from lambda_patterns.local.vtl import RenderContext, Template

_FUNCTION_IN_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>arn:[^/]+)/invocations$")
_SERVICE_IN_URI = re.compile(r":apigateway:[^:]*:(?P<service>[^:/]+):(?:action|path)/(?P<action>.+)$")
JSON_HEADERS = [("Content-Type", "application/json")]
GATEWAY_ERRORS = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
}


@dataclass
class Method:
    """One method of a resource and what it integrates with."""

    http_method: str
    integration_type: str
    authorization: str = "NONE"
    function_arn: str | None = None
    service: str | None = None
    action: str | None = None
    mock_status: int = 200
    mock_headers: Mapping[str, str] = field(default_factory=dict)
    #: Checks bodies against the method's models (a ``validation.BodyValidator``); None: not validated.
    body_validator: Any = None
    #: ``AWS`` integrations: media type -> compiled request template, passthrough behaviour, responses.
    request_templates: Mapping[str, Template] = field(default_factory=dict)
    passthrough: str = "WHEN_NO_MATCH"
    responses: Sequence[IntegrationResponse] = ()


@dataclass(frozen=True)
class IntegrationResponse:
    """An integration response of a non-proxy integration: the method status it answers with, the
    ``SelectionPattern`` (a regular expression on the backend's status) choosing it, and its templates."""

    status: int
    pattern: str | None = None
    templates: Mapping[str, Template] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def select_response(
    responses: Sequence[IntegrationResponse], backend_status: int
) -> IntegrationResponse | None:
    """The integration response for a backend status, as API Gateway chooses for an AWS or HTTP integration:
    the first whose pattern matches the whole status, else the default one (no pattern)."""
    for response in responses:
        if response.pattern and re.fullmatch(response.pattern, str(backend_status)):
            return response
    return next((response for response in responses if not response.pattern), None)


def pick_template(templates: Mapping[str, Template], media: str) -> Template | None:
    """The template for a media type; an integration response falls back to JSON, then to its first one."""
    return templates.get(media) or templates.get("application/json") or next(iter(templates.values()), None)


@dataclass
class Route:
    """A resource of the API: its path template (``/items/{id}``) and methods by HTTP verb (``ANY`` too)."""

    path: str
    methods: dict[str, Method] = field(default_factory=dict)
    #: The ``AWS::ApiGateway::Resource``'s id (``$context.resourceId`` in templates).
    resource_id: str = ""

    @property
    def parts(self) -> list[str]:
        return [part for part in self.path.split("/") if part]


@dataclass(frozen=True)
class GatewayResponse:
    """An ``AWS::ApiGateway::GatewayResponse``: what the API answers instead of a default error response."""

    status: int | None = None
    templates: Mapping[str, Template] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RestApiSpec:
    """A REST API of a template, every reference resolved."""

    stack: str
    logical_id: str
    api_id: str
    name: str
    stage: str
    routes: list[Route]
    binary_media_types: Sequence[str] = ()
    #: Response type (``BAD_REQUEST_BODY``, ``DEFAULT_4XX``, ...) -> the template's gateway response.
    gateway_responses: Mapping[str, GatewayResponse] = field(default_factory=dict)
    #: The stage's ``Variables`` (``$stageVariables`` in templates).
    stage_variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def base_path(self) -> str:
        """Where the API is served: under its stage (``/prod/``)."""
        return f"/{self.stage}/"


@dataclass
class HttpApiSpec:
    """An HTTP API (API Gateway v2) of a template: its routes by path, ``Route.methods`` by verb (``ANY``
    too), the ``$default`` route's method if any, and ``answer(api, invoke, request)``, which serves one
    ``api.Request`` (path without the stage prefix) as HTTP APIs do (``wire_apigatewayv2``)."""

    stack: str
    logical_id: str
    api_id: str
    name: str
    routes: list[Route]
    answer: Callable[..., tuple[int, list[tuple[str, str]], bytes]]
    default_route: Method | None = None
    #: ``$default`` serves the API at its root; any other stage name under ``/<stage>/``.
    stage: str = "$default"
    #: ``AWS::ApiGatewayV2::Api`` ``CorsConfiguration``, as the template has it; None: no CORS.
    cors: Mapping[str, Any] | None = None

    @property
    def base_path(self) -> str:
        """Where the API is served: its root for the ``$default`` stage, else under the stage's name."""
        return "/" if self.stage == "$default" else f"/{self.stage}/"


def gateway_error(api: RestApiSpec, response_type: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """API Gateway's answer for one of ``GATEWAY_ERRORS``: the API's gateway response of that type, else its
    ``DEFAULT_4XX``, else the default ``{"message": ...}``."""
    status, message = GATEWAY_ERRORS[response_type]
    custom = api.gateway_responses.get(response_type) or api.gateway_responses.get("DEFAULT_4XX")
    if custom is None:
        return status, list(JSON_HEADERS), json.dumps({"message": message}).encode()
    template = pick_template(custom.templates, "application/json")
    context = RenderContext("", str(uuid.uuid4()), error_message=message, error_type=response_type)
    body = template.render(context) if template else json.dumps({"message": message})
    headers = [*custom.headers.items()]
    if not any(key.lower() == "content-type" for key, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return custom.status or status, headers, body.encode()


def function_arn_of(uri: str) -> str | None:
    """The Lambda function ARN of an AWS_PROXY integration URI, without an alias or version qualifier."""
    match = _FUNCTION_IN_URI.search(uri)
    if match is None:
        return None
    parts = match.group("arn").split(":")
    return ":".join(parts[:7])


def service_action_of(uri: str) -> tuple[str, str] | None:
    """(service, action) of an AWS service integration URI such as ``...:kinesis:action/PutRecord``."""
    match = _SERVICE_IN_URI.search(uri)
    return (match.group("service"), match.group("action")) if match else None


def resource_paths(root_id: str, resources: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Full path of every resource id, from id -> (parent id, path part), with the root as ``/``."""
    paths = {root_id: "/"}

    def path_of(resource_id: str, seen: tuple[str, ...] = ()) -> str:
        if resource_id in paths:
            return paths[resource_id]
        if resource_id not in resources or resource_id in seen:
            raise KeyError(resource_id)
        parent, part = resources[resource_id]
        base = path_of(parent, (*seen, resource_id))
        paths[resource_id] = base.rstrip("/") + "/" + part
        return paths[resource_id]

    for resource_id in resources:
        path_of(resource_id)
    return paths


def match_route(routes: Sequence[Route], path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``path`` and its path parameters. Literal parts win over ``{param}``, which wins
    over a greedy ``{proxy+}``, as in API Gateway."""
    segments = [unquote(part) for part in path.split("/") if part]
    best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
    for route in routes:
        found = _match(route.parts, segments)
        if found is None:
            continue
        rank, parameters = found
        if best is None or rank > best[0]:
            best = (rank, route, parameters)
    return (best[1], best[2]) if best else None


def _match(parts: list[str], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if not rest:
                return None
            parameters[part[1:-2]] = "/".join(rest)
            rank.append(0)
            return (*rank, 0), parameters
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = segments[index]
            rank.append(1)
        elif part == segments[index]:
            rank.append(2)
        else:
            return None
    if len(parts) != len(segments):
        return None
    return (*rank, 3), parameters
