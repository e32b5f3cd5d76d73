"""The local runner (``python -m lambda_patterns.local``) driving the real cloud assembly of app.py.

The slow tests synthesize app.py into a temporary folder, start the runner on it (moto's server on
127.0.0.1, one worker process per function) and use the app only through its resources and HTTP API, the
way a developer would. Every wait is a polling loop with a deadline. The other tests cover the pure parts:
reading templates, resolving Ref/GetAtt, routing, events and billing.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from lambda_patterns.local.api import Request, proxy_event
from lambda_patterns.local.api_spec import (
    GatewayResponse,
    IntegrationResponse,
    RestApiSpec,
    Route,
    function_arn_of,
    gateway_error,
    match_route,
    resource_paths,
    select_response,
)
from lambda_patterns.local.assembly import AssemblyError, code_folder, read_assembly
from lambda_patterns.local.billing import billed_ms, invocation_cost
from lambda_patterns.local.demo import post_json
from lambda_patterns.local.events import rate_seconds, stream_failure_record
from lambda_patterns.local.functions import Outcome
from lambda_patterns.local.intrinsics import Scope, Unresolvable, referenced_ids, resolve
from lambda_patterns.local.naming import local_name
from lambda_patterns.local.services import call_service
from lambda_patterns.local.taskroot import build_task_root
from lambda_patterns.local.validation import BodyValidator, UnsupportedModel
from lambda_patterns.local.vtl import (
    RenderContext,
    TemplateError,
    UnsupportedTemplate,
    compile_template,
    escape_javascript,
)

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 60


def wait_for(probe, timeout: float = DEADLINE_S, interval: float = 0.25):
    """Calls ``probe`` until it returns something truthy; fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"nothing after {timeout} s from {probe.__name__}")


# Pure parts -------------------------------------------------------------------------------------------


def test_resolve_replaces_ref_getatt_join_and_sub_with_local_values():
    scope = Scope(
        stack="S",
        attributes={
            "Queue1": {
                "Ref": "http://127.0.0.1:1/123456789012/S-Queue1",
                "Arn": "arn:aws:sqs:us-east-1:123456789012:S-Queue1",
            },
            "Table1": {"Ref": "S-Table1", "StreamArn": "arn:stream"},
        },
    )
    template = {
        "Url": {"Ref": "Queue1"},
        "Arn": {"Fn::GetAtt": ["Queue1", "Arn"]},
        "Stream": {"Fn::GetAtt": "Table1.StreamArn"},
        "Joined": {"Fn::Join": ["/", [{"Ref": "AWS::Region"}, {"Ref": "Table1"}]]},
        "Sub": {"Fn::Sub": "${Table1}@${AWS::AccountId}:${Queue1.Arn} ${!Literal}"},
        "List": ["a", {"Ref": "AWS::NoValue"}],
    }

    resolved = resolve(template, scope)

    assert resolved == {
        "Url": "http://127.0.0.1:1/123456789012/S-Queue1",
        "Arn": "arn:aws:sqs:us-east-1:123456789012:S-Queue1",
        "Stream": "arn:stream",
        "Joined": "us-east-1/S-Table1",
        "Sub": "S-Table1@123456789012:arn:aws:sqs:us-east-1:123456789012:S-Queue1 ${Literal}",
        "List": ["a"],
    }


def test_resolve_names_what_it_cannot_resolve():
    scope = Scope(stack="S", attributes={"Key": {"Ref": "k"}})

    with pytest.raises(Unresolvable, match="S/Missing is not created locally"):
        resolve({"Ref": "Missing"}, scope)
    with pytest.raises(Unresolvable, match="attribute Arn of S/Key is not emulated"):
        resolve({"Fn::GetAtt": ["Key", "Arn"]}, scope)
    with pytest.raises(Unresolvable, match="export Other is not defined"):
        resolve({"Fn::ImportValue": "Other"}, scope)


def test_referenced_ids_finds_ref_getatt_and_sub_targets_but_not_pseudo_parameters():
    value = {
        "A": {"Ref": "One"},
        "B": {"Fn::GetAtt": ["Two", "Arn"]},
        "C": {"Fn::Sub": "${Three.Arn}${AWS::Region}"},
    }

    assert referenced_ids(value) == {"One", "Two", "Three"}


def test_local_names_are_deterministic_lowercase_for_buckets_and_within_limits():
    bucket = local_name("MyStack", "Source9FFCB46D", "AWS::S3::Bucket", {})
    long_queue = local_name("S" * 60, "Q" * 60, "AWS::SQS::Queue", {"FifoQueue": True})

    assert bucket == "mystack-source9ffcb46d"
    assert local_name("MyStack", "Source9FFCB46D", "AWS::S3::Bucket", {}) == bucket
    assert len(long_queue) <= 80 and long_queue.endswith(".fifo")
    assert local_name("S", "T", "AWS::DynamoDB::Table", {"TableName": "explicit"}) == "explicit"


def _write_assembly(folder: Path) -> None:
    asset = folder / "asset.abc"
    (asset / "lambda_common").mkdir(parents=True)
    (asset / "handler.py").write_text("def handler(event, context):\n    return event\n")
    (asset / "lambda_common" / "__init__.py").write_text("")
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": "b", "S3Key": "abc.zip"}, "Runtime": "python3.14"},
            }
        }
    }
    (folder / "S.template.json").write_text(json.dumps(template))
    assets = {
        "files": {
            "abc": {
                "source": {"path": "asset.abc", "packaging": "zip"},
                "destinations": {"d": {"bucketName": "b", "objectKey": "abc.zip"}},
            }
        }
    }
    (folder / "S.assets.json").write_text(json.dumps(assets))
    manifest = {
        "artifacts": {
            "S.assets": {"type": "cdk:asset-manifest", "properties": {"file": "S.assets.json"}},
            "S": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "S.template.json"},
                "dependencies": ["S.assets"],
                "displayName": "S",
            },
        }
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_read_assembly_maps_each_function_to_its_staged_asset_folder(tmp_path):
    _write_assembly(tmp_path)

    (stack,) = read_assembly(tmp_path)
    (function,) = stack.resources("AWS::Lambda::Function")

    assert stack.name == "S"
    assert code_folder(stack, function) == tmp_path / "asset.abc"


def test_read_assembly_names_a_missing_stack_and_a_missing_assembly(tmp_path):
    _write_assembly(tmp_path)

    with pytest.raises(AssemblyError, match="no stack Nope"):
        read_assembly(tmp_path, ["Nope"])
    with pytest.raises(AssemblyError, match="run `make synth`"):
        read_assembly(tmp_path / "missing")


def test_task_root_leaves_out_platform_wheels_but_keeps_handler_shared_code_and_pure_wheels(tmp_path):
    asset = tmp_path / "asset"
    for dist, tag, top in (
        ("native-1.0", "cp314-cp314-manylinux_2_28_aarch64", "native"),
        ("pure-2.0", "py3-none-any", "pure"),
    ):
        info = asset / f"{dist}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Name: {dist.split('-')[0]}\nVersion: {dist.split('-')[1]}\n")
        (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nTag: {tag}\n")
        (info / "RECORD").write_text(f"{top}/__init__.py,,\n{dist}.dist-info/RECORD,,\n")
        (asset / top).mkdir()
        (asset / top / "__init__.py").write_text("")
    (asset / "native.libs").mkdir()
    (asset / "native-1.0.dist-info" / "RECORD").write_text("native/__init__.py,,\nnative.libs/libx.so,,\n")
    (asset / "handler.py").write_text("")
    (asset / "lambda_common").mkdir()

    distributions = build_task_root(asset, tmp_path / "root")

    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == [
        "handler.py",
        "lambda_common",
        "pure",
        "pure-2.0.dist-info",
    ]
    assert {d.name: d.pure for d in distributions} == {"native": False, "pure": True}


def test_routes_prefer_literal_parts_then_parameters_then_greedy_proxy():
    routes = [Route("/"), Route("/{proxy+}"), Route("/items"), Route("/items/{id}")]

    assert match_route(routes, "/items")[0].path == "/items"
    assert match_route(routes, "/items/42") == (routes[3], {"id": "42"})
    assert match_route(routes, "/other/a/b") == (routes[1], {"proxy": "other/a/b"})
    assert match_route(routes, "/")[0].path == "/"


def test_resource_paths_follow_parent_ids_from_the_root():
    paths = resource_paths("root", {"a": ("root", "items"), "b": ("a", "{id}")})

    assert paths == {"root": "/", "a": "/items", "b": "/items/{id}"}


def test_proxy_event_carries_method_path_query_headers_and_body_as_api_gateway_v1():
    api = RestApiSpec(stack="S", logical_id="Api", api_id="abc", name="Api", stage="prod", routes=[])
    route = Route("/items/{id}")

    request = Request(
        method="PUT",
        path="/items/7",
        query="a=1&a=2",
        headers=[("Content-Type", "application/json")],
        body=b'{"x": 1}',
        source_ip="127.0.0.1",
    )

    event = proxy_event(api, route, {"id": "7"}, request)

    assert event["resource"] == "/items/{id}" and event["httpMethod"] == "PUT"
    assert event["pathParameters"] == {"id": "7"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["requestContext"]["path"] == "/prod/items/7"
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False


def test_function_arn_of_a_proxy_integration_drops_the_alias():
    uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f:live/invocations"

    assert function_arn_of(uri) == "arn:aws:lambda:us-east-1:1:function:f"


def test_billing_rounds_up_to_the_millisecond_and_prices_by_architecture():
    assert billed_ms(0.2) == 1 and billed_ms(36.01) == 37
    arm = invocation_cost(1000, 1024, "arm64")
    x86 = invocation_cost(1000, 1024, "x86_64")

    assert arm == pytest.approx(0.0000133334 + 0.0000002)
    assert x86 == pytest.approx(0.0000166667 + 0.0000002)


def test_rate_expressions_become_seconds_and_cron_is_on_demand():
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_stream_failure_record_has_lambdas_shape_for_dynamodb():
    records = [
        {"dynamodb": {"SequenceNumber": "100", "ApproximateCreationDateTime": 1_700_000_000.0}},
        {"dynamodb": {"SequenceNumber": "200", "ApproximateCreationDateTime": 1_700_000_001.0}},
    ]

    record = stream_failure_record(
        kind="dynamodb",
        records=records,
        shard_id="shard-1",
        stream_arn="arn:stream",
        function_arn="arn:fn",
        request_id="r",
        attempts=4,
        function_error=False,
    )

    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["startSequenceNumber"] == "100"
    assert record["DDBStreamBatchInfo"]["endSequenceNumber"] == "200"
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2


def test_outcome_reads_partial_batch_responses():
    assert (
        Outcome(ok=True, result={"batchItemFailures": [{"itemIdentifier": "a"}]}).summary()
        == "1 item failure"
    )
    assert Outcome(ok=True, result={"batchItemFailures": []}).summary() == "ok"
    assert Outcome(ok=False, error={"errorType": "E", "errorMessage": "m"}).summary() == "error (E: m)"


# API Gateway's VTL subset, request validation and AWS integrations -----------------------------------

CLICKSTREAM_TEMPLATE = (
    '{"StreamName": "S-Clicks", "Data": "$util.base64Encode($input.body)", '
    '"PartitionKey": "$util.escapeJavaScript($input.path(\'$.user_id\'))"}'
)


def test_vtl_renders_the_clickstream_put_record_template():
    body = '{"user_id": "u\\"1", "screen": "home"}'

    rendered = json.loads(compile_template(CLICKSTREAM_TEMPLATE).render(RenderContext(body)))

    assert rendered["StreamName"] == "S-Clicks"
    assert base64.b64decode(rendered["Data"]).decode() == body
    assert rendered["PartitionKey"] == 'u"1'


def test_vtl_json_path_and_request_id_render_as_api_gateway():
    template = compile_template(
        "$input.json('$.a') $input.json('$.a.b[1]') $input.path('$.a') $input.path('$.none')|$context.requestId"
    )

    rendered = template.render(RenderContext('{"a": {"b": [1, "x"]}}', request_id="r-1"))

    # A JSON object prints as a Java map, an array inside it as JSON (JSONPath over json-smart).
    assert rendered == '{"b":[1,"x"]} "x" {b=[1,"x"]} |r-1'


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("#macro(m)x#end#m()", "Macro"),
        ("#foreach($a in [1, 2])#break#end", "#break"),
        ("#include('other.vtl')", "IncludeDirective"),
        ("$input.params('a', 'b')", "$input.params takes 0 or 1"),
        ("$input.path('$.a').toUpperCase()", "toUpperCase()"),
        ("$input.path('$..a')", "JSONPath"),
        ("$input.path('$.items[-1]')", "JSONPath"),
        ("$input.path($path)", "string literal"),
        ("$util.toJson($input.body)", "$util offers only"),
        ("$context.requestOverride.header.a", "requestOverride"),
        ("#set($context.responseOverride.status = 400)", "#set($context"),
        ("\\$input.body", "escaped"),
        ("#if($a", "not valid VTL"),
    ],
)
def test_vtl_refuses_what_it_cannot_render_as_api_gateway_naming_it(template, named):
    with pytest.raises(UnsupportedTemplate, match=re.escape(named)):
        compile_template(template)


def test_vtl_leaves_dollars_and_hashes_that_are_not_vtl_as_text():
    template = compile_template('{"price": "$5", "tag": "#1", "screen": "screen#home"}')

    assert template.render(RenderContext("")) == '{"price": "$5", "tag": "#1", "screen": "screen#home"}'


def test_vtl_path_on_a_body_that_is_not_json_is_a_template_error():
    with pytest.raises(TemplateError, match="not JSON"):
        compile_template("$input.path('$.a')").render(RenderContext("not json"))


def test_escape_javascript_escapes_like_commons_lang():
    assert escape_javascript('it\'s "a"/b\\c\n') == 'it\\\'s \\"a\\"\\/b\\\\c\\n'
    assert escape_javascript("é\x01😀") == "\\u00E9\\u0001\\uD83D\\uDE00"


def test_integration_response_is_chosen_by_status_pattern_else_the_default():
    ok = IntegrationResponse(status=200)
    failed = IntegrationResponse(status=503, pattern="(4|5)\\d{2}")

    assert select_response([ok, failed], 200) is ok
    assert select_response([ok, failed], 400) is failed
    assert select_response([failed], 200) is None


def test_body_validator_checks_the_model_of_the_media_type_only():
    validator = BodyValidator({"application/json": {"type": "object", "required": ["name"]}})

    assert validator.errors("application/json; charset=utf-8", b'{"name": "x"}') == []
    assert validator.errors(None, b"{}") == ["(root): 'name' is a required property"]
    assert validator.errors("application/json", b"not json")[0].startswith("not JSON")
    assert validator.errors("text/plain", b"{}") == []


def test_body_validator_refuses_a_model_referring_to_another_document():
    with pytest.raises(UnsupportedModel, match="https://apigateway"):
        BodyValidator({"application/json": {"$ref": "https://apigateway.amazonaws.com/restapis/a/models/B"}})


def test_a_custom_gateway_response_renders_the_error_message_and_type():
    template = compile_template(
        '{"code": "$context.error.responseType", "message": $context.error.messageString}'
    )
    api = RestApiSpec(
        stack="S",
        logical_id="Api",
        api_id="abc",
        name="Api",
        stage="prod",
        routes=[],
        gateway_responses={"BAD_REQUEST_BODY": GatewayResponse(templates={"application/json": template})},
    )
    plain = RestApiSpec(stack="S", logical_id="Api", api_id="abc", name="Api", stage="prod", routes=[])

    status, _, body = gateway_error(api, "BAD_REQUEST_BODY")

    assert (status, json.loads(body)) == (
        400,
        {"code": "BAD_REQUEST_BODY", "message": "Invalid request body"},
    )
    assert gateway_error(plain, "BAD_REQUEST_BODY")[2] == b'{"message": "Invalid request body"}'


def test_a_put_record_request_with_bad_base64_is_kinesis_serialization_error_without_a_call():
    def no_client(service):
        raise AssertionError("Kinesis must not be called")

    request = json.dumps({"StreamName": "s", "Data": "not base64!", "PartitionKey": "p"})

    status, body = call_service(no_client, "kinesis", "PutRecord", request)

    assert status == 400 and json.loads(body)["__type"] == "SerializationException"


# The real app ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    """app.py synthesized into a temporary cloud assembly, bundling with the project's wheelhouse."""
    out = tmp_path_factory.mktemp("cdk.out")
    env = {
        **os.environ,
        "CDK_OUTDIR": str(out),
        # What the CDK CLI passes: the feature flags of cdk.json change what the constructs synthesize.
        "CDK_CONTEXT_JSON": json.dumps(
            {
                **json.loads((ROOT / "cdk.json").read_text()).get("context", {}),
                "aws:cdk:enable-path-metadata": True,
                "aws:cdk:enable-asset-metadata": True,
            }
        ),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    env.setdefault("LAMBDA_PATTERNS_WHEELHOUSE", str(ROOT / ".wheelhouse"))
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def app(assembly):
    from lambda_patterns.local import LocalApp

    local = LocalApp(assembly, schedule_scale=0, retry_delay=0.1)
    local.start()
    yield local
    local.stop()


def _numbers(item: dict, *names: str) -> tuple:
    """Number attributes of a low-level item, None where absent.

    moto applies an UpdateItem in place, first creating a new item with its key only, then clause by
    clause, where DynamoDB applies it atomically: a read racing the function's write can see an item
    without ``count`` or with ``count`` updated and ``sum`` not yet. Probes therefore wait for the whole
    expected state instead of reading attributes of the first item they see.
    """
    return tuple(Decimal(item[name]["N"]) if name in item else None for name in names)


def _require_stack(app, name: str) -> None:
    """Skips the test when app.py has no stack ``name``."""
    if not any(stack.name == name for stack in app.stacks):
        pytest.skip(f"app.py has no {name}")


@pytest.mark.slow
def test_an_uploaded_image_gets_its_thumbnails(app):
    from PIL import Image

    s3 = app.client("s3")
    source = app.find("Thumbnails/Source", "AWS::S3::Bucket")["Ref"]
    destination = app.find("Thumbnails/Destination", "AWS::S3::Bucket")["Ref"]
    image = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 120, 200)).save(image, "JPEG")

    s3.put_object(Bucket=source, Key="uploads/beach.jpg", Body=image.getvalue())

    def thumbnails():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=destination).get("Contents", [])]
        return keys if len(keys) == 3 else None

    assert sorted(wait_for(thumbnails)) == [
        "thumbnails/1024/uploads/beach.jpg",
        "thumbnails/128/uploads/beach.jpg",
        "thumbnails/256/uploads/beach.jpg",
    ]
    small = s3.get_object(Bucket=destination, Key="thumbnails/128/uploads/beach.jpg")["Body"].read()
    assert max(Image.open(io.BytesIO(small)).size) == 128


@pytest.mark.slow
def test_a_poison_sqs_message_ends_in_the_dead_letter_queue_and_the_good_one_does_not(app):
    sqs = app.client("sqs")
    queue = app.find("Hello/Requests/Queue", "AWS::SQS::Queue")["Ref"]
    dead_letters = app.find("Hello/Requests/DeadLetterQueue", "AWS::SQS::Queue")["Ref"]

    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"name": "Ada"}))
    sqs.send_message(QueueUrl=queue, MessageBody="not json")

    def dead_lettered():
        return sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10).get("Messages")

    (message,) = wait_for(dead_lettered)
    assert message["Body"] == "not json"


def _order(order_id: str, amount: dict) -> dict:
    """A low-level item of the orders table: a book order in the eu region of 12:10, ``amount`` as given
    (a number, or something that is not one)."""
    return {
        "pk": {"S": order_id},
        "category": {"S": "books"},
        "region": {"S": "eu"},
        "amount": amount,
        "created_at": {"S": "2026-11-28T12:10:00Z"},
    }


@pytest.mark.slow
def test_items_written_to_the_orders_table_are_aggregated(app):
    _require_stack(app, "AnalyticsStack")
    dynamodb = app.client("dynamodb")
    orders = app.find("OrderAggregates/Source", None)["Ref"]
    aggregates = app.find("OrderAggregates/Aggregates/", None)["Ref"]
    for order_id, amount in (("o-1", "10"), ("o-2", "32.5")):
        dynamodb.put_item(TableName=orders, Item=_order(order_id, {"N": amount}))

    def books_hour():
        items = dynamodb.query(
            TableName=aggregates,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "category#books"}},
        )["Items"]
        series = [(item["sk"]["S"], *_numbers(item, "count", "sum")) for item in items]
        return series if series == [("hour#2026-11-28T12:00:00Z", 2, Decimal("42.5"))] else None

    wait_for(books_hour)


@pytest.mark.slow
def test_a_poison_stream_record_lands_in_the_on_failure_queue_after_retries(app):
    _require_stack(app, "AnalyticsStack")
    dynamodb = app.client("dynamodb")
    sqs = app.client("sqs")
    orders = app.find("OrderAggregates/Source", None)["Ref"]
    on_failure = app.find("OrderAggregates/OnChange/OnFailureQueue", "AWS::SQS::Queue")["Ref"]

    dynamodb.put_item(TableName=orders, Item=_order("o-poison", {"S": "a lot"}))

    def failure_records():
        return sqs.receive_message(QueueUrl=on_failure, MaxNumberOfMessages=10).get("Messages")

    (message,) = wait_for(failure_records)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    assert record["DDBStreamBatchInfo"]["streamArn"] == app.find("OrderAggregates/Source", None)["StreamArn"]


@pytest.mark.slow
def test_a_purchase_published_to_the_topic_is_stored(app):
    _require_stack(app, "AnalyticsStack")
    sns = app.client("sns")
    dynamodb = app.client("dynamodb")
    topic = app.find("Purchases/Purchases/Resource", "AWS::SNS::Topic")["Ref"]
    purchases = app.find("Purchases/PurchasesTable", None)["Ref"]
    purchase = {
        "purchase_id": "p-local-1",
        "customer_id": "c-1",
        "product_id": "sku-1",
        "quantity": 2,
        "unit_price": "19.99",
        "currency": "EUR",
        "purchased_at": "2026-11-28T12:00:05Z",
    }

    sns.publish(TopicArn=topic, Message=json.dumps(purchase))

    def stored():
        return dynamodb.get_item(TableName=purchases, Key={"pk": {"S": "p-local-1"}}).get("Item")

    assert wait_for(stored)["pk"]["S"] == "p-local-1"


@pytest.mark.slow
def test_the_items_api_answers_http_over_a_real_socket(app):
    _require_stack(app, "WebBackendStack")
    base = app.api_url("WebBackendStack")

    status, created = post_json(base + "items", {"name": "lamp", "price": 12.5})

    assert status == 201
    with urllib.request.urlopen(base + f"items/{created['id']}", timeout=30) as response:
        fetched = json.loads(response.read())

    assert fetched["name"] == "lamp" and fetched["price"] == 12.5
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + "items/does-not-exist", timeout=30)
    assert missing.value.code == 404


# The clickstream ingest API (API Gateway -> Kinesis) and request validation ------------------------


def _post_json(url: str, body) -> tuple[int, dict]:
    """``demo.post_json``, answering an error status as it answers success."""
    try:
        return post_json(url, body)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _click(screen: str, user_id: str) -> dict:
    """A tap on ``screen`` at 12:00:05 as the ingest API takes it."""
    return {"event_type": "tap", "screen": screen, "timestamp": "2026-11-28T12:00:05Z", "user_id": user_id}


def _stream_data(app, stream: str) -> list[bytes]:
    """Every record's data on the stream, read from the start of each shard."""
    kinesis = app.client("kinesis")
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            found.extend(record["Data"] for record in page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return found


@pytest.mark.slow
def test_a_click_posted_to_the_ingest_api_is_counted(app):
    _require_stack(app, "AnalyticsStack")
    dynamodb = app.client("dynamodb")
    counts = app.find("Clickstream/Counts/", None)["Ref"]
    status, answer = _post_json(
        app.api_url("AnalyticsStack", "/clicks") + "clicks", _click("local-http", "u-1")
    )

    assert status == 200 and answer["accepted"] is True and answer["sequence_number"]

    def counted():
        item = dynamodb.get_item(
            TableName=counts, Key={"pk": {"S": "screen#local-http"}, "sk": {"S": "2026-11-28T12:00Z#tap"}}
        ).get("Item")
        return item is not None and _numbers(item, "count") == (1,)

    wait_for(counted)


@pytest.mark.slow
def test_a_click_breaking_the_model_is_refused_with_400_and_never_reaches_the_stream(app):
    _require_stack(app, "AnalyticsStack")
    stream = app.find("Clickstream/Clicks/", "AWS::Kinesis::Stream")["Ref"]
    # An empty screen breaks the model's minLength.
    status, answer = _post_json(
        app.api_url("AnalyticsStack", "/clicks") + "clicks", _click("", "u-invalid-9f3")
    )

    assert (status, answer) == (400, {"message": "Invalid request body"})
    assert not [data for data in _stream_data(app, stream) if b"u-invalid-9f3" in data]


@pytest.mark.slow
def test_a_malformed_record_put_on_the_click_stream_lands_in_the_malformed_queue(app):
    _require_stack(app, "AnalyticsStack")
    sqs = app.client("sqs")
    stream = app.find("Clickstream/Clicks/", "AWS::Kinesis::Stream")["Ref"]
    malformed = app.find("Clickstream/MalformedRecords/", "AWS::SQS::Queue")["Ref"]

    app.client("kinesis").put_record(StreamName=stream, Data=b"not a click {", PartitionKey="p-1")

    def quarantined():
        return sqs.receive_message(QueueUrl=malformed, MaxNumberOfMessages=10).get("Messages")

    (message,) = wait_for(quarantined)
    report = json.loads(message["Body"])
    assert base64.b64decode(report["data"]) == b"not a click {"
    assert report["partition_key"] == "p-1"


@pytest.mark.slow
def test_an_item_breaking_the_model_is_refused_with_400_before_the_function_runs(app):
    _require_stack(app, "WebBackendStack")
    function = app.find("WebBackendStack/Items/Function/Function/Resource", "AWS::Lambda::Function")["Ref"]
    worker = app.workers[function]
    before = worker.invocations

    status, answer = _post_json(app.api_url("WebBackendStack") + "items", {"name": "lamp", "price": -1})

    assert status == 400
    # WebBackendStack's BAD_REQUEST_BODY gateway response shapes the answer, as in the deployed API.
    assert (
        answer["error"]["code"] == "validation_failed"
        and answer["error"]["message"] == "Invalid request body"
    )
    assert worker.invocations == before


@pytest.mark.slow
def test_the_demo_flow_makes_no_call_its_roles_do_not_grant(app, tmp_path):
    """The demo's work (and that of the tests above, when the module runs whole) under the IAM check:
    every function's calls are checked against its synthesized role, and none is denied."""
    from lambda_patterns.local import demo

    assert app.enforce_iam and all(worker.iam is not None for worker in app.workers.values())
    demo.thumbnails(app, tmp_path / "local-out")
    demo.purchase(app)
    demo.web_item(app)
    demo.click(app)

    report = app.iam_report()

    assert report["not_checked"] == {}
    denied = [item for role in report["roles"] for item in role["denied"]]
    assert denied == [], denied
    used = {item["action"] for role in report["roles"] for item in role["used"]}
    # The check saw the demo's calls: the thumbnailer's S3 reads and writes, the stores' DynamoDB writes.
    assert {"s3:GetObject", "s3:PutObject", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= used, used
