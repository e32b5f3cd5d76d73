"""Hostile input to the local runner: request bodies its API Gateway emulation parses, object keys the demo
saves as files.

The API tests serve a small REST API with ``ApiServer`` on 127.0.0.1 (port 0) and talk to it over a real
socket, the way a client of ``make local`` does; the functions and the Kinesis call behind it are stand-ins
that record what reached them. The demo tests run ``demo.thumbnails`` against moto's S3 server with keys
chosen to escape ``local-out/``; every such key stays inside the test's temporary folder, so that a
regression writes there and not into the real file system.
"""

from __future__ import annotations

import http.client
import inspect
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lambda_patterns.local import demo, validation
from lambda_patterns.local.api import ApiServer
from lambda_patterns.local.api_spec import IntegrationResponse, Method, RestApiSpec, Route
from lambda_patterns.local.functions import Outcome
from lambda_patterns.local.validation import BodyValidator
from lambda_patterns.local.vtl import compile_template

# The real app, synthesized and run as tests/local/test_local_runner.py does (its module-scoped fixtures).
from test_local_runner import app, assembly  # noqa: F401

# The API ----------------------------------------------------------------------------------------------

#: The clickstream construct's ClickEvent model, as it is synthesized (draft 4).
CLICK_MODEL = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["event_type", "screen", "timestamp", "user_id"],
    "properties": {
        "event_type": {"type": "string", "minLength": 1, "maxLength": 64},
        "screen": {"type": "string", "minLength": 1, "maxLength": 128},
        "timestamp": {"type": "string", "minLength": 10, "maxLength": 40},
        "user_id": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9_.:@+=/-]+$"},
    },
}
ITEM_MODEL = {
    "type": "object",
    "required": ["name"],
    "properties": {"price": {"type": "number", "minimum": 0}},
}
#: A model that refers to itself: validating a body walks it as deep as the body nests.
TREE_MODEL = {"type": "array", "items": {"$ref": "#"}}
PUT_RECORD_TEMPLATE = (
    '{"StreamName": "S-Clicks", "Data": "$util.base64Encode($input.body)", '
    '"PartitionKey": "$util.escapeJavaScript($input.path(\'$.user_id\'))"}'
)
INVALID_BODY = {"message": "Invalid request body"}
CLICK = {"event_type": "tap", "screen": "home", "timestamp": "2026-11-28T12:00:05Z", "user_id": "u-1"}

DEEP_BODIES = {
    # The defect report's body: 60,000 opening brackets, not even closed.
    "unclosed-list": b"[" * 60_000,
    "unclosed-object": b'{"a":' * 60_000,
    # Complete JSON that json.loads still parses at the top of a stack, nested just under its limit.
    "closed-list": b"[" * 990 + b"]" * 990,
    "closed-object": b'{"user_id":' * 990 + b'"u"' + b"}" * 990,
    # More digits than Python converts to an int (sys.get_int_max_str_digits, 4300 by default).
    "huge-integer": b'{"user_id": "u", "price": ' + b"9" * 5000 + b"}",
}


class Recorder:
    """What reached the function and the service behind the API."""

    def __init__(self) -> None:
        self.invocations: list[dict] = []
        self.service_calls: list[str] = []
        self.service_error: Exception | None = None

    def invoke(self, function_arn: str, event: dict, trigger: str) -> Outcome:
        self.invocations.append(event)
        return Outcome(ok=True, result={"statusCode": 201, "body": json.dumps({"id": "i-1"})})

    def service(self, service: str, action: str, payload: str) -> tuple[int, str]:
        if self.service_error is not None:
            raise self.service_error
        self.service_calls.append(payload)
        return 200, json.dumps({"SequenceNumber": "49-1", "ShardId": "shardId-000000000000"})


def _service_method(template: str, validator: BodyValidator | None = None) -> Method:
    return Method(
        "POST",
        "AWS",
        service="kinesis",
        action="PutRecord",
        body_validator=validator,
        request_templates={"application/json": compile_template(template)},
        passthrough="NEVER",
        responses=[
            IntegrationResponse(
                status=200,
                templates={
                    "application/json": compile_template(
                        '{"accepted": true, "sequence_number": "$input.path(\'$.SequenceNumber\')"}'
                    )
                },
            )
        ],
    )


def _proxy_method(function: str, model: dict) -> Method:
    """A proxy integration of the function ``function`` whose JSON bodies must match ``model``."""
    return Method(
        "POST",
        "AWS_PROXY",
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        body_validator=BodyValidator({"application/json": model}),
    )


@pytest.fixture
def api():
    """A REST API on 127.0.0.1: ``/clicks`` (validated, then Kinesis through a template), ``/items``
    (validated, then a proxy function), ``/raw`` (a template, no validation), ``/tree`` (a recursive
    model). Yields (server, recorder)."""
    recorder = Recorder()
    routes = [
        Route(
            "/clicks",
            {"POST": _service_method(PUT_RECORD_TEMPLATE, BodyValidator({"application/json": CLICK_MODEL}))},
        ),
        Route("/items", {"POST": _proxy_method("items", ITEM_MODEL)}),
        Route(
            "/raw",
            {
                "POST": _service_method(
                    '{"StreamName": "S-Raw", "Data": "$util.base64Encode($input.path(\'$.user_id\'))", '
                    '"PartitionKey": "$util.escapeJavaScript($input.path(\'$.user_id\'))", '
                    "\"Echo\": $input.json('$')}"
                )
            },
        ),
        Route("/tree", {"POST": _proxy_method("tree", TREE_MODEL)}),
    ]
    spec = RestApiSpec(stack="S", logical_id="Api", api_id="abc", name="Api", stage="prod", routes=routes)
    server = ApiServer(spec, 0, recorder.invoke, recorder.service)
    server.start()
    yield server, recorder
    server.stop()


def _post(
    server: ApiServer, path: str, body: bytes, headers: dict[str, str] | None = None, connection=None
) -> tuple[int, bytes]:
    """POSTs over a real socket; a dropped connection fails the test (http.client raises)."""
    connection = connection or http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(
        "POST", f"/prod{path}", body=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
@pytest.mark.parametrize("path", ["/clicks", "/items"])
def test_local_api_answers_400_to_a_deeply_nested_body(api, path, body):
    server, recorder = api

    status, answer = _post(server, path, body)

    assert (status, json.loads(answer)) == (400, INVALID_BODY)
    assert recorder.invocations == [] and recorder.service_calls == []


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_local_api_answers_400_when_a_request_template_cannot_parse_the_body(api, body):
    server, recorder = api

    status, answer = _post(server, "/raw", body)

    assert (status, json.loads(answer)) == (400, INVALID_BODY)
    assert recorder.service_calls == []


def test_local_api_still_serves_good_bodies_and_keeps_the_connection_after_a_bad_one(api):
    server, recorder = api
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    bad = _post(server, "/clicks", DEEP_BODIES["unclosed-list"], connection=connection)
    good = _post(server, "/clicks", json.dumps(CLICK).encode(), connection=connection)

    assert bad[0] == 400
    assert good == (200, b'{"accepted": true, "sequence_number": "49-1"}')
    assert len(recorder.service_calls) == 1


def test_local_api_validates_bodies_nested_up_to_the_limit_and_refuses_deeper_ones(api):
    server, recorder = api
    limit = validation.MAX_DEPTH

    at_limit = _post(server, "/tree", b"[" * limit + b"]" * limit)
    beyond = _post(server, "/tree", b"[" * (limit + 1) + b"]" * (limit + 1))

    assert at_limit[0] == 201 and len(recorder.invocations) == 1
    assert (beyond[0], json.loads(beyond[1])) == (400, INVALID_BODY)
    assert len(recorder.invocations) == 1


def test_local_api_answers_400_when_validation_itself_runs_out_of_stack(api, monkeypatch):
    # Past the depth limit's protection (raised here): a model that recurses more per level than the
    # limit allows for must still end in API Gateway's answer, not in a dropped connection.
    monkeypatch.setattr(validation, "MAX_DEPTH", 1_000_000, raising=False)
    server, recorder = api

    status, answer = _post(server, "/tree", b"[" * 600 + b"]" * 600)

    assert (status, json.loads(answer)) == (400, INVALID_BODY)
    assert recorder.invocations == []


def test_local_api_renders_a_lone_surrogate_as_api_gateway_does(api):
    # Java strings hold unpaired UTF-16 surrogates: escapeJavaScript prints \uD800 and base64Encode's
    # UTF-8 bytes carry "?" for it. Python refuses to encode one, which must not end the request.
    server, recorder = api

    status, _ = _post(server, "/raw", b'{"user_id": "\\ud800"}')

    assert status == 200
    (payload,) = recorder.service_calls
    assert '"PartitionKey": "\\uD800"' in payload and '"Data": "Pw=="' in payload


def test_local_api_answers_500_rather_than_dropping_the_connection_when_the_runner_fails(api):
    server, recorder = api
    recorder.service_error = RuntimeError("the service emulation broke")

    status, answer = _post(server, "/clicks", json.dumps(CLICK).encode())

    assert (status, json.loads(answer)) == (500, {"message": "Internal server error"})


@pytest.mark.parametrize(
    ("length", "expected"),
    [("nope", 400), ("-5", 400), (str(11 * 1024 * 1024), 413)],
)
def test_local_api_answers_a_bad_or_oversized_content_length_without_reading_the_body(api, length, expected):
    server, recorder = api
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", "/prod/items")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", length)
    connection.endheaders()

    response = connection.getresponse()

    assert response.status == expected and "message" in json.loads(response.read())
    assert recorder.invocations == []


@pytest.mark.slow
def test_the_real_apps_apis_answer_400_to_a_deeply_nested_body(app):  # noqa: F811
    names = {stack.name for stack in app.stacks}
    if not {"AnalyticsStack", "WebBackendStack"} <= names:
        pytest.skip("app.py has no AnalyticsStack or WebBackendStack")
    function = app.find("WebBackendStack/Items/Function/Function/Resource", "AWS::Lambda::Function")["Ref"]
    before = app.workers[function].invocations
    body = DEEP_BODIES["unclosed-list"]

    def post(url: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    clicks = post(app.api_url("AnalyticsStack", "/clicks") + "clicks")
    items = post(app.api_url("WebBackendStack") + "items")

    assert clicks == (400, INVALID_BODY)
    # WebBackendStack's BAD_REQUEST_BODY gateway response shapes its answer, as in the deployed API.
    assert items[0] == 400 and items[1]["error"]["message"] == "Invalid request body"
    assert app.workers[function].invocations == before


# The demo's thumbnails --------------------------------------------------------------------------------


class DemoApp:
    """What ``demo.thumbnails`` uses of a LocalApp: the two buckets and an S3 client of moto's server."""

    def __init__(self, s3) -> None:
        self._s3 = s3

    def find(self, path: str, kind: str | None = None) -> dict:
        return {
            "Thumbnails/Source": {"Ref": "demo-source"},
            "Thumbnails/Destination": {"Ref": "demo-thumbs"},
        }[path]

    def client(self, service: str):
        assert service == "s3"
        return self._s3


GOOD_KEY = "thumbnails/128/uploads/beach.jpg"


def _files(folder: Path) -> set[Path]:
    """Every file and symlink under ``folder``, symlinks not followed."""
    found = set()
    for directory, directories, files in os.walk(folder):
        found.update(Path(directory) / name for name in files)
        found.update(Path(directory) / name for name in directories if (Path(directory) / name).is_symlink())
    return found


@pytest.fixture
def demo_run(aws, tmp_path, monkeypatch):
    """Runs ``demo.thumbnails`` as ``make demo`` does (``local-out`` relative to the working folder
    ``tmp_path/work``) after putting ``keys`` in the destination bucket; returns what it wrote."""
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="demo-source")
    s3.create_bucket(Bucket="demo-thumbs")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def run(keys: list[str]) -> set[Path]:
        for key in keys:
            s3.put_object(Bucket="demo-thumbs", Key=key, Body=f"object {key!r}".encode())
        before = _files(tmp_path)
        demo.thumbnails(DemoApp(s3), Path("local-out"))
        return _files(tmp_path) - before

    return run


def _hostile_keys(tmp_path: Path) -> list[str]:
    # Each key would land inside tmp_path if followed: work/local-out is two levels below it.
    return [
        "../../escaped-dotdot.jpg",
        "thumbnails/128/../../../../escaped-nested.jpg",
        str(tmp_path / "outside" / "absolute.jpg"),
        "thumbnails\\..\\..\\..\\escaped-backslash.jpg",
        "thumbnails/nul\x00byte.jpg",
        "thumbnails//empty-part.jpg",
        "thumbnails/" + "x" * 300 + ".jpg",
        "thumbnails/" + "y" * 200 + "/" + "z" * 200 + "/" + "w" * 200 + ".jpg",
        "clash",
        "clash/inner.jpg",
        "..",
    ]


def test_demo_never_writes_outside_local_out(demo_run, tmp_path):
    written = demo_run([GOOD_KEY, *_hostile_keys(tmp_path)])

    local_out = (tmp_path / "work" / "local-out").resolve()
    assert written, "the demo wrote nothing"
    outside = [path for path in written if not path.resolve().is_relative_to(local_out)]
    assert outside == []
    assert (local_out / GOOD_KEY).read_bytes() == f"object {GOOD_KEY!r}".encode()


def test_demo_skips_keys_it_cannot_save_as_they_are_with_a_warning(demo_run, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="lambda_patterns.local")

    demo_run([GOOD_KEY, "../../escaped-dotdot.jpg", "thumbnails/nul\x00byte.jpg"])

    warned = "\n".join(record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)
    assert "'../../escaped-dotdot.jpg'" in warned and "'thumbnails/nul\\x00byte.jpg'" in warned
    assert GOOD_KEY not in warned


def test_demo_does_not_follow_a_symlink_out_of_local_out(demo_run, tmp_path):
    outside = tmp_path / "outside"
    (outside / "uploads").mkdir(parents=True)
    local_out = tmp_path / "work" / "local-out"
    (local_out / "thumbnails").mkdir(parents=True)
    # A folder and a file of local-out/ that are symlinks out of it, left there by an earlier run or a user.
    (local_out / "thumbnails" / "256").symlink_to(outside, target_is_directory=True)
    (local_out / "thumbnails" / "128").mkdir()
    (local_out / "thumbnails" / "128" / "uploads").symlink_to(outside / "uploads", target_is_directory=True)
    (outside / "target.jpg").write_bytes(b"untouched")
    (local_out / "thumbnails" / "1024.jpg").symlink_to(outside / "target.jpg")

    written = demo_run(
        [
            "thumbnails/256/uploads/beach.jpg",
            "thumbnails/128/uploads/beach.jpg",
            "thumbnails/1024.jpg",
            "thumbnails/512/uploads/beach.jpg",
        ]
    )

    assert [path for path in written if not path.resolve().is_relative_to(local_out.resolve())] == []
    assert sorted(p.name for p in outside.rglob("*")) == ["target.jpg", "uploads"]
    assert (outside / "target.jpg").read_bytes() == b"untouched"
    assert (local_out / "thumbnails" / "512" / "uploads" / "beach.jpg").is_file()


def test_a_service_integration_answers_400_to_a_request_nested_too_deeply():
    from lambda_patterns.local.services import call_service

    def no_client(_service):
        raise AssertionError("a request that does not parse never reaches the service")

    status, body = call_service(no_client, "kinesis", "PutRecord", "[" * 60_000)

    assert status == 400
    assert json.loads(body)["__type"] == "SerializationException"


@pytest.mark.parametrize(
    "body", [DEEP_BODIES["closed-list"], DEEP_BODIES["closed-object"]], ids=["list", "object"]
)
def test_a_body_deeper_than_the_limit_is_refused_before_the_parser_recurses_into_it(body):
    # Given a complete body nested ~990 levels: json.loads would recurse once per level, and a garbage
    # collection or finalizer that runs down there fails for want of stack (seen as a flaky unraisable
    # RecursionError in the full suite). When it is parsed with only 200 frames of headroom,
    limit = sys.getrecursionlimit()
    depth = len(inspect.stack())
    sys.setrecursionlimit(depth + 200)
    try:
        with pytest.raises(validation.InvalidJSON) as raised:
            validation.parse_json(body)
    finally:
        sys.setrecursionlimit(limit)
    # then it is refused for its depth, found by a scan of the text, not by running out of stack.
    assert str(raised.value) == f"JSON nested more than {validation.MAX_DEPTH} levels deep"


def test_brackets_inside_strings_do_not_count_toward_the_depth_limit():
    # Given a flat object whose strings hold many brackets and escaped quotes,
    text = json.dumps({"a": "[" * 500, "b": '\\"{' * 300, "c": [["x"]]})

    # when it is parsed, then it is the document, not a depth refusal.
    assert validation.parse_json(text) == json.loads(text)
    assert validation.parse_json(text.encode()) == json.loads(text)
