"""API Gateway v2: each HTTP API (``AWS::ApiGatewayV2::Api`` with ``ProtocolType: HTTP``) with its routes,
Lambda proxy integrations, stage and authorizers becomes an ``api_spec.HttpApiSpec`` served on a local
port: requests become payload format 2.0 events, the handler's answer the HTTP response, as HTTP APIs do."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from lambda_patterns.local.api import Invoke, Request
from lambda_patterns.local.api_spec import (
    JSON_HEADERS,
    HttpApiSpec,
    Method,
    Route,
    function_arn_of,
    match_route,
)
from lambda_patterns.local.assembly import Resource, Stack
from lambda_patterns.local.intrinsics import ACCOUNT_ID, REGION, Scope, Unresolvable, resolve
from lambda_patterns.local.provision import short_id
from lambda_patterns.local.registry import register
from lambda_patterns.local.validation import media_type

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")

#: What an HTTP API is made of (``AWS::ApiGatewayV2::<part>``).
API_PARTS = ("Api", "Stage", "Route", "Integration", "Authorizer")
NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = {"message": "Internal Server Error"}
#: Media types HTTP APIs pass to the function as text; any other body arrives base64-encoded.
TEXT_MEDIA_TYPES = ("application/json", "application/xml", "application/javascript")


@register(*(f"AWS::ApiGatewayV2::{part}" for part in API_PARTS), order=80)
def wire_apigatewayv2(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """A local server for every HTTP API of the stack, in template order (WebSocket APIs are skipped)."""
    provide_ids(stack, scope)
    for resource in stack.resources("AWS::ApiGatewayV2::Api"):
        protocol = resource.properties.get("ProtocolType", "HTTP")
        if protocol != "HTTP":
            app.skipped.append(f"{resource.path}: {protocol} APIs are not emulated")
            continue
        app.serve_api(http_api_spec(app, stack, resource, scope))


#: The id attribute of each part besides ``Ref`` (a stage's ``Ref`` is its name).
_ID_ATTRIBUTES = {
    "Api": "ApiId",
    "Route": "RouteId",
    "Integration": "IntegrationId",
    "Authorizer": "AuthorizerId",
}


def provide_ids(stack: Stack, scope: Scope) -> None:
    """Gives every part of the stack's HTTP APIs its ``Ref`` and id attribute (stable ids such as API
    Gateway's), so that routes, integrations and stages resolve the ids they refer to. An API's
    ``ApiEndpoint`` is the deployed form; the runner prints the local URL."""
    attributes: Any = scope.attributes
    for part, name in _ID_ATTRIBUTES.items():
        for item in stack.resources(f"AWS::ApiGatewayV2::{part}"):
            found = attributes.setdefault(item.logical_id, {})
            found.setdefault("Ref", short_id(stack.name, item.logical_id))
            found.setdefault(name, found["Ref"])
            if part == "Api":
                found.setdefault("ApiEndpoint", f"https://{found['Ref']}.execute-api.{REGION}.amazonaws.com")
    for item in stack.resources("AWS::ApiGatewayV2::Stage"):
        stage = item.properties.get("StageName")
        if isinstance(stage, str):
            attributes.setdefault(item.logical_id, {"Ref": stage})


def _of_api(stack: Stack, scope: Scope, api_id: str, resource_type: str) -> list[Resource]:
    """The stack's resources of ``resource_type`` that belong to the API (their ``ApiId``)."""
    found = []
    for item in stack.resources(resource_type):
        try:
            if resolve(item.properties.get("ApiId"), scope) == api_id:
                found.append(item)
        except Unresolvable:
            continue
    return found


def http_api_spec(app: LocalApp, stack: Stack, resource: Resource, scope: Scope) -> HttpApiSpec:
    """The HTTP API's routes whose Lambda integrations run locally (the others are reported skipped)."""
    api_id = scope.attributes[resource.logical_id]["Ref"]
    integrations = _integrations(app, stack, scope, api_id)
    routes: dict[str, Route] = {}
    default_route: Method | None = None
    unchecked: set[str] = set()
    for item in _of_api(stack, scope, api_id, "AWS::ApiGatewayV2::Route"):
        props = item.properties
        key = str(props.get("RouteKey", ""))
        try:
            target = str(resolve(props.get("Target") or "", scope))
        except Unresolvable as error:
            app.skipped.append(f"{item.path}: {error}")
            continue
        function_arn = integrations.get(target.removeprefix("integrations/"))
        if function_arn is None:
            app.skipped.append(f"{item.path}: route {key} does not invoke a local function")
            continue
        authorization = str(props.get("AuthorizationType") or "NONE")
        if authorization != "NONE":
            unchecked.add(authorization)
        # The method is named by its whole route key (``GET /items/{id}``): what the event carries.
        method = Method(key, "AWS_PROXY", authorization, function_arn=function_arn)
        if key == "$default":
            default_route = method
            continue
        verb, _, path = key.partition(" ")
        routes.setdefault(path, Route(path)).methods[verb.upper()] = method
    if unchecked:
        log.warning(
            "%s: %s authorization cannot be checked locally: requests pass through unauthenticated",
            resource.path,
            " and ".join(sorted(unchecked)),
        )
    stages = [
        str(item.properties.get("StageName"))
        for item in _of_api(stack, scope, api_id, "AWS::ApiGatewayV2::Stage")
    ]
    return HttpApiSpec(
        stack=stack.name,
        logical_id=resource.logical_id,
        api_id=api_id,
        name=resource.path.removesuffix("/Resource"),
        routes=list(routes.values()),
        answer=answer,
        default_route=default_route,
        stage="$default" if not stages or "$default" in stages else stages[0],
        cors=resolve(resource.properties.get("CorsConfiguration"), scope) or None,
    )


def _integrations(app: LocalApp, stack: Stack, scope: Scope, api_id: str) -> dict[str, str]:
    """Integration id -> the unqualified ARN of the local function it invokes (Lambda proxy only)."""
    found: dict[str, str] = {}
    for item in _of_api(stack, scope, api_id, "AWS::ApiGatewayV2::Integration"):
        props = item.properties
        try:
            uri = str(resolve(props.get("IntegrationUri"), scope))
        except Unresolvable as error:
            app.skipped.append(f"{item.path}: {error}")
            continue
        if props.get("IntegrationType") != "AWS_PROXY":
            app.skipped.append(
                f"{item.path}: integration type {props.get('IntegrationType')} is not emulated"
            )
            continue
        # The URI is the function's (or alias's) ARN, or API Gateway's invocation URI around it.
        arn = function_arn_of(uri) or ":".join(uri.split(":")[:7])
        if app.local_worker(arn) is None:
            app.skipped.append(f"{item.path}: integration {uri} does not invoke a local function")
            continue
        if str(props.get("PayloadFormatVersion", "2.0")) != "2.0":
            log.warning("%s: payload format 1.0 is served as 2.0 locally", item.path)
        found[scope.attributes[item.logical_id]["Ref"]] = arn
    return found


def route_for(api: HttpApiSpec, method: str, path: str) -> tuple[Method, str, dict[str, str]] | None:
    """The method serving a request, its route key and path parameters: of the routes for the request's
    method or ``ANY``, the most specific matching path (literal parts, then ``{param}``, then
    ``{proxy+}``), its own method before ``ANY``; else ``$default``."""
    # Route keys pair a method with a path: only the paths with a route for this method compete.
    candidates = [route for route in api.routes if method in route.methods or "ANY" in route.methods]
    matched = match_route(candidates, path)
    if matched is not None:
        route, parameters = matched
        target = route.methods.get(method) or route.methods["ANY"]
        return target, target.http_method, parameters
    if api.default_route is not None:
        return api.default_route, "$default", {}
    return None


def _joined(pairs: list[tuple[str, str]], lower: bool = False) -> dict[str, str]:
    """Repeated names' values joined with commas, as payload 2.0 carries them."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        key = key.lower() if lower else key
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def http_api_event(
    api: HttpApiSpec, route_key: str, parameters: Mapping[str, str], request: Request
) -> dict[str, Any]:
    """The payload format 2.0 event for one HTTP request to the route ``route_key``."""
    cookies = [
        part.strip()
        for key, value in request.headers
        if key.lower() == "cookie"
        for part in value.split(";")
        if part.strip()
    ]
    headers = _joined([(key, value) for key, value in request.headers if key.lower() != "cookie"], lower=True)
    media = media_type(request.header("content-type"))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    query = parse_qsl(request.query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = _joined(query)
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": api.api_id,
        "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": api.stage,
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if parameters:
        event["pathParameters"] = dict(parameters)
    text = (
        not request.body or media.startswith("text/") or media in TEXT_MEDIA_TYPES or media.endswith("+json")
    )
    if request.body:
        event["body"] = (
            request.body.decode("utf-8", "replace") if text else base64.b64encode(request.body).decode()
        )
    event["isBase64Encoded"] = not text
    return event


def http_api_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a payload 2.0 answer: ``statusCode``/``headers``/``cookies``/``body``,
    or any other JSON value as a 200 ``application/json`` body; 500 for a ``statusCode`` that is no status."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, list(JSON_HEADERS), json.dumps(result).encode()
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool):
        return 500, list(JSON_HEADERS), json.dumps(INTERNAL_ERROR).encode()
    headers = [(key, str(value)) for key, value in (result.get("headers") or {}).items()]
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    if not any(key.lower() == "content-type" for key, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return status, headers, data


def _cors_headers(cors: Mapping[str, Any], request: Request) -> list[tuple[str, str]]:
    """The CORS headers HTTP APIs add for an allowed ``Origin``; none for another origin."""
    origin = request.header("origin")
    allowed = cors.get("AllowOrigins") or []
    if origin is None or not ("*" in allowed or origin in allowed):
        return []
    headers = [("Access-Control-Allow-Origin", "*" if "*" in allowed and origin not in allowed else origin)]
    if cors.get("AllowCredentials"):
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
    return headers


def _preflight(cors: Mapping[str, Any], request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = _cors_headers(cors, request)
    if headers:
        headers.append(("Access-Control-Allow-Methods", ",".join(cors.get("AllowMethods") or ["*"])))
        if cors.get("AllowHeaders"):
            headers.append(("Access-Control-Allow-Headers", ",".join(cors["AllowHeaders"])))
        if cors.get("MaxAge") is not None:
            headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    return 204, headers, b""


def answer(api: HttpApiSpec, invoke: Invoke, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request to the HTTP API: CORS preflight, route, 2.0 event, function, response; 404
    ``{"message":"Not Found"}`` for no route and 500 ``{"message":"Internal Server Error"}`` for a failed
    function, as HTTP APIs answer."""
    prefix = api.base_path.rstrip("/")
    if prefix and not (request.path == prefix or request.path.startswith(prefix + "/")):
        return 404, list(JSON_HEADERS), json.dumps(NOT_FOUND).encode()
    path = request.path[len(prefix) :] or "/"
    request = Request(request.method, path, request.query, request.headers, request.body, request.source_ip)
    cors = api.cors
    if cors and request.method == "OPTIONS" and request.header("access-control-request-method"):
        return _preflight(cors, request)
    found = route_for(api, request.method, path)
    if found is None:
        return 404, list(JSON_HEADERS), json.dumps(NOT_FOUND).encode()
    method, route_key, parameters = found
    event = http_api_event(api, route_key, parameters, request)
    outcome = invoke(method.function_arn or "", event, f"HTTP API {route_key}")
    if outcome is None or not outcome.ok:
        status, headers, data = 500, list(JSON_HEADERS), json.dumps(INTERNAL_ERROR).encode()
    else:
        status, headers, data = http_api_response(outcome.result)
    return status, headers + (_cors_headers(cors, request) if cors else []), data
