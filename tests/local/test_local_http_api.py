"""The local runner's HTTP APIs (API Gateway v2), end to end.

A tiny app of its own: the echo fixture (it returns the event it received, and makes no AWS call the
runner's IAM check would refuse) as a ``ServerlessFunction`` behind ``SecureHttpApi`` routes
``GET /items/{id}`` and ``POST /items``. The local endpoint must hand the function payload format 2.0 events
and answer with what it returns; an unknown route answers 404 as HTTP APIs do.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from synth_helpers import FIXTURES

ORIGIN = "https://app.example.com"


def _synthesize(folder: Path) -> Path:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from lambda_patterns import ServerlessFunction
    from lambda_patterns.resources.http_api import SecureHttpApi

    out = folder / "cdk.out"
    app = cdk.App(
        outdir=str(out),
        context={"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True},
    )
    stack = cdk.Stack(app, "Http")
    function = ServerlessFunction(stack, "Echo", code=lambda_.Code.from_asset(str(FIXTURES / "echo")))
    api = SecureHttpApi(stack, "Api", cors_allow_origins=[ORIGIN])
    api.add_lambda_routes(function, {"/items/{id}": "GET", "/items": "POST"})
    app.synth()
    return out


def _call(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def local_api(tmp_path_factory):
    from lambda_patterns.local import LocalApp

    assembly = _synthesize(tmp_path_factory.mktemp("http-api"))
    with LocalApp(assembly, schedule_scale=0) as app:
        yield app, app.api_url("Http", "/items/{id}")


def test_the_http_api_is_served_at_its_root_and_found_by_route(local_api):
    app, url = local_api
    assert url.startswith("http://127.0.0.1:") and url.endswith("/")
    assert url.count("/") == 3  # the $default stage: no stage in the path
    assert app.api_url(route="/items") == url
    assert app.skipped == []


def test_a_get_with_path_and_query_parameters_reaches_the_function_as_a_2_0_event(local_api):
    _, url = local_api
    status, headers, body = _call(
        f"{url}items/42?color=red&color=blue&size=m", headers={"X-Trace": "abc", "User-Agent": "tests/1"}
    )

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    event = json.loads(body)["received"]  # a bare JSON value: 200 application/json
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "color=red&color=blue&size=m"
    assert event["queryStringParameters"] == {"color": "red,blue", "size": "m"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["headers"]["x-trace"] == "abc"
    assert all(name == name.lower() for name in event["headers"])
    context = event["requestContext"]
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /items/{id}"
    assert context["http"] == {
        "method": "GET",
        "path": "/items/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests/1",
    }
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_a_post_body_arrives_as_text_for_json_and_base64_for_binary(local_api):
    _, url = local_api
    document = json.dumps({"name": "lamp"}).encode()
    status, _, body = _call(f"{url}items", "POST", document, {"Content-Type": "application/json"})
    event = json.loads(body)["received"]
    assert (status, event["routeKey"], event["body"], event["isBase64Encoded"]) == (
        200,
        "POST /items",
        '{"name": "lamp"}',
        False,
    )
    assert "pathParameters" not in event and "queryStringParameters" not in event

    _, _, body = _call(f"{url}items", "POST", b"\x89PNG", {"Content-Type": "image/png"})
    event = json.loads(body)["received"]
    assert (event["body"], event["isBase64Encoded"]) == ("iVBORw==", True)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "nothing"), ("DELETE", "items/42"), ("GET", "items"), ("GET", "items/1/more")],
)
def test_an_unknown_route_answers_404_not_found(local_api, method, path):
    _, url = local_api
    status, headers, body = _call(f"{url}{path}", method)
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    assert headers["Content-Type"] == "application/json"


def test_cors_preflight_is_answered_by_the_api_for_its_origins(local_api):
    _, url = local_api
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    status, headers, _ = _call(f"{url}items", "OPTIONS", headers=preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in headers["Access-Control-Allow-Headers"]

    status, headers, _ = _call(f"{url}items/7", headers={"Origin": ORIGIN})
    assert (status, headers["Access-Control-Allow-Origin"]) == (200, ORIGIN)
    _, headers, _ = _call(f"{url}items/7", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"statusCode": 201, "headers": {"X-A": "1"}, "body": "ok"},
            (201, [("X-A", "1"), ("Content-Type", "application/json")], b"ok"),
        ),
        ({"statusCode": 204}, (204, [("Content-Type", "application/json")], b"")),
        (
            {"statusCode": 200, "cookies": ["a=1"], "body": "aGk=", "isBase64Encoded": True},
            (200, [("Set-Cookie", "a=1"), ("Content-Type", "application/json")], b"hi"),
        ),
        ({"answer": 42}, (200, [("Content-Type", "application/json")], b'{"answer": 42}')),
        ("text", (200, [("Content-Type", "application/json")], b'"text"')),
        (
            {"statusCode": "200"},
            (500, [("Content-Type", "application/json")], b'{"message": "Internal Server Error"}'),
        ),
    ],
)
def test_a_payload_2_0_answer_becomes_the_http_response(result, expected):
    from lambda_patterns.local.wire_apigatewayv2 import http_api_response

    assert http_api_response(result) == expected


def _spec(with_default: bool):
    from lambda_patterns.local.api_spec import HttpApiSpec, Method, Route
    from lambda_patterns.local.wire_apigatewayv2 import answer

    def route(path: str, *verbs: str) -> Route:
        return Route(path, {verb: Method(f"{verb} {path}", "AWS_PROXY") for verb in verbs})

    routes = [route("/items/{id}", "GET"), route("/items/special", "GET"), route("/{proxy+}", "ANY")]
    default = Method("$default", "AWS_PROXY") if with_default else None
    return HttpApiSpec("S", "Api", "abc", "S/Api", routes, answer, default_route=default)


@pytest.mark.parametrize(
    ("method", "path", "with_default", "expected"),
    [
        ("GET", "/items/special", False, ("GET /items/special", {})),  # a literal part wins over {id}
        ("GET", "/items/7", False, ("GET /items/{id}", {"id": "7"})),
        ("POST", "/items/7", False, ("ANY /{proxy+}", {"proxy": "items/7"})),  # no POST on {id}: the proxy
        ("GET", "/", False, None),  # {proxy+} needs at least one segment
        ("GET", "/", True, ("$default", {})),
    ],
)
def test_routes_match_as_http_apis_do(method, path, with_default, expected):
    from lambda_patterns.local.wire_apigatewayv2 import route_for

    found = route_for(_spec(with_default), method, path)
    assert (found and (found[1], found[2])) == expected
