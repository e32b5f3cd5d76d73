"""Least privilege, checked by running the code: each function's role grants exactly the data actions its
handler calls (granted == used: no unused grant, no ungranted call).

For each function of the app's stacks the test synthesizes the stack, creates on moto's server the tables,
queues and buckets the function's environment names (so the handler runs with the environment the
construct gives it), runs the handler through scenarios covering its code paths (normal, replay,
malformed or invalid input, failure and fallback paths), records every AWS call it makes with botocore
event hooks, maps each call to the IAM actions AWS authorizes it by (``uses`` below), and compares them with
the function role's synthesized policies. Grants the Lambda service itself exercises with the role (the
function's logs, X-Ray, the event source mapping's reads and on-failure sends) are listed per function
with their reason and are not compared, but each must be in the policy.

Then the account-wide API Gateway setting: one ``AWS::ApiGateway::Account`` per app, whose CloudWatch role
writes logs and reads none.
"""

from __future__ import annotations

import copy
import fnmatch
import io
import json
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from PIL import Image

from conftest import LambdaContext, load_event, load_handler
from lambda_patterns.resources.rest_api import ACCOUNT_STACK_CONTEXT, SecureRestApi
from records import kinesis_record, sqs_message
from stacks.analytics_stack import AnalyticsStack
from stacks.example_stack import ExampleServiceStack
from stacks.file_processing_stack import FileProcessingStack
from stacks.web_backend_stack import WebBackendStack
from synth_helpers import cfn_lint_errors, new_app, synth_with_nag

# --- which IAM actions authorize a call --------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One IAM action a call needs, on a resource named by its logical id, at ``path`` below it (an S3
    key as ``/<key>``, an index as ``/index/<name>``); ``s3_prefix`` is the value S3 evaluates
    ``s3:prefix`` conditions with."""

    action: str
    resource: str
    path: str = ""
    s3_prefix: str | None = None


@dataclass
class Call:
    service: str
    operation: str
    params: dict
    status: int


_DYNAMODB_ONE_TABLE = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "Query", "DescribeTable"}
#: TransactWriteItems has no action of its own: each item needs the action of its kind on its table.
_TRANSACT_WRITE = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_S3_UPLOAD = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
_SQS = {
    "SendMessage": "sqs:SendMessage",
    "SendMessageBatch": "sqs:SendMessage",
    "ReceiveMessage": "sqs:ReceiveMessage",
    "DeleteMessage": "sqs:DeleteMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibility": "sqs:ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
}


def uses(call: Call, names: dict[str, dict[str, str]]) -> list[Use]:
    """The IAM actions AWS checks for ``call``; ``names`` maps each service's local names (table and bucket
    names, queue URLs) to the logical ids of the template."""

    def lid(service: str, name: str) -> str:
        return names[service].get(name, f"<not in the stack: {name}>")

    p, op = call.params, call.operation
    if call.service == "dynamodb":
        if op in _DYNAMODB_ONE_TABLE:
            path = f"/index/{p['IndexName']}" if p.get("IndexName") else ""
            return [Use(f"dynamodb:{op}", lid("dynamodb", p["TableName"]), path)]
        if op in ("BatchGetItem", "BatchWriteItem"):
            return [Use(f"dynamodb:{op}", lid("dynamodb", table)) for table in p["RequestItems"]]
        if op == "TransactWriteItems":
            return [
                Use(_TRANSACT_WRITE[kind], lid("dynamodb", request["TableName"]))
                for item in p["TransactItems"]
                for kind, request in item.items()
            ]
        if op == "TransactGetItems":
            return [
                Use("dynamodb:GetItem", lid("dynamodb", i["Get"]["TableName"])) for i in p["TransactItems"]
            ]
    if call.service == "s3":
        bucket = lid("s3", p["Bucket"])
        if op in ("GetObject", "HeadObject"):
            action = "s3:GetObjectVersion" if p.get("VersionId") else "s3:GetObject"
            found = [Use(action, bucket, f"/{p['Key']}")]
            if call.status == 404:
                # S3 answers 404 for a missing key only to a caller that may list it (else 403): the 404
                # the handler relies on uses ListBucket, evaluated with the key as s3:prefix.
                found.append(Use("s3:ListBucket", bucket, s3_prefix=p["Key"]))
            return found
        if op in _S3_UPLOAD:
            return [Use("s3:PutObject", bucket, f"/{p['Key']}")]
        if op == "AbortMultipartUpload":
            return [Use("s3:AbortMultipartUpload", bucket, f"/{p['Key']}")]
        if op == "DeleteObject":
            action = "s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject"
            return [Use(action, bucket, f"/{p['Key']}")]
        if op in ("ListObjectsV2", "ListObjects"):
            return [Use("s3:ListBucket", bucket, s3_prefix=p.get("Prefix", ""))]
        if op == "ListObjectVersions":
            return [Use("s3:ListBucketVersions", bucket, s3_prefix=p.get("Prefix", ""))]
    if call.service == "sqs" and op in _SQS:
        return [Use(_SQS[op], lid("sqs", p["QueueUrl"]))]
    pytest.fail(f"no IAM mapping for {call.service}.{op}: add the operation to uses() in this test")


# --- what the role grants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One action of an Allow statement on one resource (logical id), ``pattern`` below it as in the ARN
    (``/uploads/*``), with the statement's condition as JSON."""

    action: str
    resource: str
    pattern: str = ""
    condition: str | None = None

    def covers(self, use: Use) -> bool:
        if (self.action, self.resource) != (use.action, use.resource):
            return False
        if not fnmatch.fnmatchcase(use.path, self.pattern):
            return False
        if self.condition is None:
            return True
        condition = json.loads(self.condition)
        if list(condition) == ["StringLike"] and list(condition["StringLike"]) == ["s3:prefix"]:
            patterns = condition["StringLike"]["s3:prefix"]
            patterns = patterns if isinstance(patterns, list) else [patterns]
            return use.s3_prefix is not None and any(fnmatch.fnmatchcase(use.s3_prefix, p) for p in patterns)
        raise AssertionError(f"{self}: this test does not evaluate the condition {condition}")

    def __str__(self) -> str:
        condition = f" if {self.condition}" if self.condition else ""
        return f"{self.action} on {self.resource}{self.pattern}{condition}"


def _resource(value: Any) -> tuple[str, str]:
    """(logical id, pattern) of a policy statement's resource."""
    if value == "*":
        return "*", ""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return logical_id, "" if attribute == "Arn" else f"#{attribute}"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, (first, *rest) = value["Fn::Join"]
        if (
            separator == ""
            and isinstance(first, dict)
            and "Fn::GetAtt" in first
            and all(isinstance(part, str) for part in rest)
        ):
            logical_id, pattern = _resource(first)
            return logical_id, pattern + "".join(rest)
    return json.dumps(value, sort_keys=True), ""


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def granted(template: dict, role_id: str) -> set[Grant]:
    """Every action each policy attached to the role allows, per resource."""
    grants: set[Grant] = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy" or {"Ref": role_id} not in resource["Properties"]["Roles"]:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow" and "NotAction" not in statement, statement
            condition = (
                json.dumps(statement["Condition"], sort_keys=True) if "Condition" in statement else None
            )
            for action in _listed(statement["Action"]):
                for value in _listed(statement["Resource"]):
                    grants.add(Grant(action, *_resource(value), condition))
    return grants


# --- running a handler against moto, recording its calls -----------------------------------------------------


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class Recorder:
    """botocore hooks on the boto3 session the handler's clients come from: every call with its parameters
    and status; optionally a failed condition's echoed item removed (an endpoint that does not return it,
    which the handlers answer with a consistent read), and a write applied once before the handler's own
    (a concurrent delivery that won the race)."""

    _WRITES = {"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems"}

    def __init__(self, side: boto3.Session) -> None:
        self.calls: list[Call] = []
        self.strip_echo = False
        self._race: str | None = None
        self._side = side
        self._lock = threading.Lock()

    def install(self, session: boto3.Session) -> None:
        session.events.register("before-parameter-build", self._before, unique_id="least-privilege-before")
        session.events.register("after-call", self._after, unique_id="least-privilege-after")

    def race_next_write(self, service: str = "dynamodb") -> None:
        """Apply the next write the handler sends once more, first, through a client the test owns."""
        self._race = service

    def _before(self, params, model, context, **_):
        context["least_privilege_params"] = copy.deepcopy(params)
        service = model.service_model.service_name
        with self._lock:
            race = self._race == service and model.name in self._WRITES
            if race:
                self._race = None
        if race:
            getattr(self._side.client(service), _snake(model.name))(**copy.deepcopy(params))

    def _after(self, http_response, parsed, model, context, **_):
        service = model.service_model.service_name
        self.calls.append(
            Call(service, model.name, context.get("least_privilege_params", {}), http_response.status_code)
        )
        if self.strip_echo and http_response.status_code >= 400:
            parsed.pop("Item", None)
            for reason in parsed.get("CancellationReasons") or []:
                reason.pop("Item", None)


@dataclass
class Run:
    """What a scenario drives: the handler loaded as Lambda would with the construct's environment."""

    handler: Any
    env: dict[str, str]
    recorder: Recorder
    side: boto3.Session
    names: dict[str, dict[str, str]]
    #: Local name of each resource the test created, by logical id.
    local: dict[str, str] = field(default_factory=dict)

    def invoke(self, event: dict) -> Any:
        return self.handler.handler(event, LambdaContext())


def _provision(side: boto3.Session, template: dict, logical_id: str, names: dict) -> str:
    """Create the resource ``logical_id`` of the template on moto; its local name (a queue: its URL)."""
    resource = template["Resources"][logical_id]
    kind, props = resource["Type"], resource.get("Properties", {})
    if kind in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
        assert "GlobalSecondaryIndexes" not in props, "extend the test to create indexes"
        side.client("dynamodb").create_table(
            TableName=logical_id,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        names["dynamodb"][logical_id] = logical_id
        return logical_id
    if kind == "AWS::SQS::Queue":
        assert not props.get("FifoQueue"), "extend the test for FIFO queues"
        url = side.client("sqs").create_queue(QueueName=logical_id)["QueueUrl"]
        names["sqs"][url] = logical_id
        return url
    if kind == "AWS::S3::Bucket":
        name = logical_id.lower()
        client = side.client("s3")
        client.create_bucket(Bucket=name)
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        names["s3"][name] = logical_id
        return name
    raise AssertionError(f"{logical_id}: the test cannot create a {kind}")


# --- the functions, their Lambda-service grants, and their scenarios --------------------------------------


@dataclass
class Case:
    folder: str
    stack: cdk.Stack
    function: Any  # ServerlessFunction
    #: (actions, construct, pattern, why the Lambda service, not the code, uses them)
    lambda_service: list[tuple[tuple[str, ...], Any, str, str]]
    scenarios: Callable[[Run], None]
    #: Resources the handler receives other than through its environment (an S3 event's bucket).
    extra_resources: tuple[Any, ...] = ()
    #: (action, construct, pattern, why): grants for a call a handler change will make that the code does
    #: not make yet. Allowed to stay unused, with a warning; remove an entry once its call has landed.
    not_yet_called: list[tuple[str, Any, str, str]] = field(default_factory=list)


_LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
_LOGS_WHY = "Lambda writes the function's stdout and stderr to its own log group with the execution role"
_XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
_XRAY_WHY = "active tracing: Lambda sends the invocation's trace segments with the execution role"
_ON_FAILURE = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
_ON_FAILURE_WHY = (
    "Lambda sends what failed every retry to the on-failure queue with the execution role (CDK's grant)"
)
_SQS_POLL = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
_POLL_WHY = "the event source mapping receives and deletes the queue's messages with the execution role"


def _logical_id(stack: cdk.Stack, construct: Any) -> str:
    if construct == "*":
        return "*"
    return stack.resolve(construct.node.default_child.logical_id)


def _for_every_function(function) -> list:
    return [(_LOGS, function.log_group, "", _LOGS_WHY), (_XRAY, "*", "", _XRAY_WHY)]


@pytest.fixture(scope="module")
def app_stacks():
    app = new_app()
    stacks = {
        "example": ExampleServiceStack(app, "ExampleServiceStack"),
        "files": FileProcessingStack(app, "FileProcessingStack"),
        "analytics": AnalyticsStack(app, "AnalyticsStack"),
        "web": WebBackendStack(app, "WebBackendStack"),
    }
    assembly = app.synth()
    templates = {
        name: assembly.get_stack_by_name(stack.stack_name).template for name, stack in stacks.items()
    }
    return stacks, templates


# Scenario helpers --------------------------------------------------------------------------------------------

_STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-28T00:00:00.000"
_FIRST = 500000000000000000001


def _order(n: int, category: str, amount: str, at: str = "2026-11-28T12:10:00Z") -> dict:
    return {
        "pk": {"S": f"order#{n}"},
        "category": {"S": category},
        "region": {"S": "eu"},
        "amount": {"N": amount},
        "created_at": {"S": at},
    }


def _change(seq: int, name: str, new: dict | None = None, old: dict | None = None, ttl: bool = False) -> dict:
    body = {
        "Keys": {"pk": (new or old)["pk"]},
        "SequenceNumber": str(seq),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = new
    if old is not None:
        body["OldImage"] = old
    record = {"eventID": f"{seq:032x}", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body}
    record["eventSourceARN"] = _STREAM_ARN
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def _window(records: list[dict], shard: str = "shardId-00000001") -> dict:
    return {"Records": records, "shardId": shard, "window": {"start": "2026-11-28T12:00:00Z"}}


def aggregator_scenarios(run: Run) -> None:
    books, games = _order(1, "books", "12.50"), _order(2, "games", "3.25")
    batch = [
        _change(_FIRST, "INSERT", new=books),
        _change(_FIRST + 1, "INSERT", new=games),
        _change(_FIRST + 2, "MODIFY", new=_order(1, "books", "15.00"), old=books),
        _change(_FIRST + 3, "REMOVE", old=games, ttl=True),
    ]
    assert run.invoke(_window(batch))["batchItemFailures"] == []
    # Replayed, then re-sent after a partial failure: filtered against the marks.
    run.invoke(_window(copy.deepcopy(batch)))
    run.invoke(_window(copy.deepcopy(batch[2:])))
    # A poison record beside a good one; a row that is not an aggregated one.
    poison = _change(_FIRST + 10, "INSERT", new={"pk": {"S": "order#9"}, "category": {"S": "toys"}})
    other = _change(_FIRST + 11, "INSERT", new={"pk": {"S": "customer#1"}, "name": {"S": "Ada"}})
    good = _change(_FIRST + 12, "INSERT", new=_order(3, "toys", "1"))
    failures = run.invoke(_window([poison, other, good]))["batchItemFailures"]
    assert failures == [{"itemIdentifier": str(_FIRST + 10)}]
    # Contributions that cancel out (an INSERT and its REMOVE in one batch): only the mark moves.
    row = _order(4, "music", "2")
    run.invoke(_window([_change(_FIRST + 20, "INSERT", new=row), _change(_FIRST + 21, "REMOVE", old=row)]))
    # A concurrent delivery of the same records wins the race; the endpoint returns no item with the
    # failed condition, so the handler reads it.
    run.recorder.strip_echo = True
    run.recorder.race_next_write()
    assert (
        run.invoke(_window([_change(_FIRST + 30, "INSERT", new=_order(5, "books", "4"))]))[
            "batchItemFailures"
        ]
        == []
    )
    run.recorder.strip_echo = False
    # Without a tumbling window (the whole stream is one lane).
    run.invoke({"Records": [_change(_FIRST + 40, "INSERT", new=_order(6, "games", "5"))]})


def _click(i: int, data: dict | bytes, shard: str = "shardId-000000000000") -> dict:
    return kinesis_record(i, data, shard)


def _tap(screen: str = "home", minute: str = "12:00") -> dict:
    return {"event_type": "tap", "screen": screen, "timestamp": f"2026-11-28T{minute}:05Z", "user_id": "u"}


def clickstream_scenarios(run: Run) -> None:
    batch = [_click(0, _tap()), _click(1, _tap()), _click(2, _tap("cart", "12:01"))]
    assert run.invoke({"Records": batch}) == {"batchItemFailures": []}
    run.invoke({"Records": copy.deepcopy(batch)})
    # Malformed records are quarantined once, then recognised on a replay.
    malformed = [_click(10, b"not json"), _click(11, {"screen": "home"}), _click(12, _tap())]
    assert run.invoke({"Records": malformed}) == {"batchItemFailures": []}
    run.invoke({"Records": copy.deepcopy(malformed)})
    # A concurrent delivery wins the race; the failed condition comes back without the item.
    run.recorder.strip_echo = True
    run.recorder.race_next_write()
    assert run.invoke({"Records": [_click(20, _tap("search"))]}) == {"batchItemFailures": []}
    run.recorder.strip_echo = False


def _purchase_message(body: dict | str, n: int) -> dict:
    return sqs_message(body, n)


def _purchase(pid: str, customer: str = "c-1", at: str = "2026-11-28T12:00:00Z") -> dict:
    return {
        "purchase_id": pid,
        "customer_id": customer,
        "product_id": "sku-1",
        "quantity": 2,
        "unit_price": "10.00",
        "currency": "EUR",
        "purchased_at": at,
    }


def purchases_scenarios(run: Run) -> None:
    # A first purchase (new buyer), a later and an earlier one of the same buyer, and a duplicate delivery.
    batch = [
        _purchase_message(_purchase("p-1"), 1),
        _purchase_message(_purchase("p-2", at="2026-11-28T13:00:00Z"), 2),
        _purchase_message(_purchase("p-3", at="2026-11-28T11:00:00Z"), 3),
        _purchase_message(_purchase("p-1"), 4),
    ]
    assert run.invoke({"Records": batch}) == {"batchItemFailures": []}
    # Invalid messages: not JSON, and not a purchase.
    invalid = [_purchase_message("{not json", 5), _purchase_message({**_purchase("p-9"), "quantity": 0}, 6)]
    run.invoke({"Records": invalid})
    # A concurrent delivery of the same purchase wins the race: the transaction is cancelled as a duplicate.
    run.recorder.race_next_write()
    assert run.invoke({"Records": [_purchase_message(_purchase("p-4", "c-2"), 7)]}) == {
        "batchItemFailures": []
    }


def recommendations_scenarios(run: Run) -> None:
    # Pairs the purchase processor wrote, and one product the customer already bought.
    table = run.side.resource("dynamodb").Table(run.env["AGGREGATES_TABLE"])
    for other, score in (("lens", 3), ("bag", 2)):
        table.put_item(Item={"pk": "related#camera", "sk": other, "score": score, "product_id": other})
    table.put_item(Item={"pk": "product#lens", "sk": "buyer#c-1"})

    def get(query: dict | None) -> dict:
        return run.invoke({"pathParameters": {"id": "camera"}, "queryStringParameters": query})

    assert get(None)["statusCode"] == 200
    assert json.loads(get({"customer_id": "c-1"})["body"])["recommendations"] == [
        {"product_id": "bag", "score": 2}
    ]
    assert get({"limit": "0"})["statusCode"] == 400


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def _upload_event(bucket: str, key: str, stored: dict | None = None, versioned: bool = True) -> dict:
    """The notification S3 sends for ``stored`` (a PutObject response; None: an object since deleted)."""
    event = load_event("s3_object_created")
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"]["key"] = key
    if stored is not None:
        record["s3"]["object"]["eTag"] = stored["ETag"].strip('"')
    if stored is None or not versioned:
        record["s3"]["object"].pop("versionId", None)
    else:
        record["s3"]["object"]["versionId"] = stored["VersionId"]
    return event


def thumbnail_scenarios(run: Run, source: str) -> None:
    s3 = run.side.client("s3")
    cat = s3.put_object(Bucket=source, Key="uploads/cat.jpg", Body=_jpeg())
    assert run.invoke(_upload_event(source, "uploads/cat.jpg", cat))["processed"] == 1
    # The same event again (S3 delivers at least once): the thumbnails exist, so they are looked at.
    run.invoke(_upload_event(source, "uploads/cat.jpg", cat))
    # A newer upload of the same key, then the older event arriving late.
    newer = s3.put_object(Bucket=source, Key="uploads/cat.jpg", Body=_jpeg())
    late = _upload_event(source, "uploads/cat.jpg", cat)
    event = _upload_event(source, "uploads/cat.jpg", newer)
    event["Records"][0]["s3"]["object"]["sequencer"] = "0055AED6DCD90281E6"
    run.invoke(event)
    run.invoke(late)
    # An event naming no version (an unversioned bucket, or versioning suspended).
    dog = s3.put_object(Bucket=source, Key="uploads/dog.jpg", Body=_jpeg())
    run.invoke(_upload_event(source, "uploads/dog.jpg", dog, versioned=False))
    # Not an image: rejected, not retried.
    notes = s3.put_object(Bucket=source, Key="uploads/notes.jpg", Body=b"hello")
    assert run.invoke(_upload_event(source, "uploads/notes.jpg", notes))["rejected"] == 1
    # Deleted before the function ran: S3 must answer 404 (not 403) for the handler to reject it.
    assert run.invoke(_upload_event(source, "uploads/gone.jpg"))["rejected"] == 1
    # The function's own output, and an event that is not an upload: skipped without a call.
    destination, prefix = run.env["DEST_BUCKET"], run.env["DEST_PREFIX"]
    run.invoke(_upload_event(destination, f"{prefix}128/uploads/cat.jpg"))
    removed = _upload_event(source, "uploads/cat.jpg", cat)
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    run.invoke(removed)


def web_api_scenarios(run: Run) -> None:
    from web_api_client import call

    api = run.handler
    mug = {"name": "Mug", "price": 12.5}
    created = call(api, "POST", "/items", body=mug)
    assert created.status == 201, created.body
    item_id = created.body["id"]
    assert call(api, "GET", f"/items/{item_id}").status == 200
    assert call(api, "GET", "/items/no-such-item").status == 404
    assert call(api, "GET", "/items", query={"limit": "1"}).status == 200
    assert (
        call(api, "PUT", f"/items/{item_id}", body={**mug, "price": 13}, headers={"If-Match": '"1"'}).status
        == 200
    )
    assert call(api, "PUT", f"/items/{item_id}", body=mug, headers={"If-Match": '"1"'}).status == 412
    assert call(api, "PATCH", f"/items/{item_id}", body={"price": 14}).status == 200
    assert call(api, "POST", "/items", body={"name": "no price"}).status == 400
    assert call(api, "DELETE", f"/items/{item_id}", headers={"If-Match": '"1"'}).status == 412
    assert call(api, "DELETE", f"/items/{item_id}").status == 204
    assert call(api, "DELETE", f"/items/{item_id}").status in (204, 404)


def hello_scenarios(run: Run) -> None:
    run.invoke(load_event("sqs_hello_batch"))


def _cases(stacks: dict) -> dict[str, Case]:
    orders = stacks["analytics"].orders
    clicks = stacks["analytics"].clicks
    purchases = stacks["analytics"].purchases
    pipeline = stacks["files"].pipeline
    backend = stacks["web"].backend
    hello = stacks["example"].service
    recommendations = stacks["analytics"].recommendations
    return {
        "stream_aggregator": Case(
            "stream_aggregator",
            stacks["analytics"],
            orders.function,
            [
                *_for_every_function(orders.function),
                (
                    ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
                    orders.source_table,
                    "#StreamArn",
                    "the event source mapping reads the source table's stream with the execution role",
                ),
                (
                    ("dynamodb:ListStreams",),
                    orders.source_table,
                    "#StreamArn",
                    "CDK's grant for the event source mapping (ListStreams has no resource-level form)",
                ),
                (_ON_FAILURE, orders.trigger.failure_queue, "", _ON_FAILURE_WHY),
            ],
            aggregator_scenarios,
        ),
        "clickstream": Case(
            "clickstream",
            stacks["analytics"],
            clicks.function,
            [
                *_for_every_function(clicks.function),
                (
                    (
                        # The stream and its consumers, then its shards' records.
                        "kinesis:DescribeStream",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:DescribeStreamConsumer",
                        "kinesis:ListStreams",
                        "kinesis:ListShards",
                        "kinesis:GetShardIterator",
                        "kinesis:GetRecords",
                        "kinesis:SubscribeToShard",
                    ),
                    clicks.stream,
                    "",
                    "the event source mapping reads the click stream with the execution role (CDK's grant)",
                ),
                (_ON_FAILURE, clicks.trigger.failure_queue, "", _ON_FAILURE_WHY),
            ],
            clickstream_scenarios,
        ),
        "purchase_processor": Case(
            "purchase_processor",
            stacks["analytics"],
            purchases.function,
            [*_for_every_function(purchases.function), (_SQS_POLL, purchases.queue, "", _POLL_WHY)],
            purchases_scenarios,
        ),
        "thumbnail_pipeline": Case(
            "thumbnail_pipeline",
            stacks["files"],
            pipeline.function,
            [
                *_for_every_function(pipeline.function),
                (_ON_FAILURE, pipeline.failure_queue, "", _ON_FAILURE_WHY),
            ],
            lambda run: thumbnail_scenarios(
                run, run.local[_logical_id(stacks["files"], pipeline.source_bucket)]
            ),
            extra_resources=(pipeline.source_bucket,),
        ),
        "web_api_backend": Case(
            "web_api_backend",
            stacks["web"],
            backend.function,
            _for_every_function(backend.function),
            web_api_scenarios,
        ),
        "recommendations_api": Case(
            "recommendations_api",
            stacks["analytics"],
            recommendations.function,
            _for_every_function(recommendations.function),
            recommendations_scenarios,
        ),
        "hello": Case(
            "hello",
            stacks["example"],
            hello.function,
            [
                *_for_every_function(hello.function),
                (_ON_FAILURE, hello.function.dead_letter_queue, "", _ON_FAILURE_WHY),
                (_SQS_POLL, hello.triggers[0].queue, "", _POLL_WHY),
            ],
            hello_scenarios,
        ),
    }


def _grants(stack: cdk.Stack, entries) -> dict[Grant, str]:
    return {
        Grant(action, _logical_id(stack, construct), pattern): why
        for actions, construct, pattern, why in entries
        for action in actions
    }


@pytest.mark.parametrize(
    "name",
    [
        "stream_aggregator",
        "clickstream",
        "purchase_processor",
        "thumbnail_pipeline",
        "web_api_backend",
        "recommendations_api",
        "hello",
    ],
)
def test_role_grants_exactly_the_data_actions_the_handler_calls(name, app_stacks, aws, monkeypatch):
    stacks, templates = app_stacks
    case = _cases(stacks)[name]
    template = templates[next(k for k, s in stacks.items() if s is case.stack)]
    role_grants = granted(template, _logical_id(case.stack, case.function.function_role.role))
    service = _grants(case.stack, case.lambda_service)
    missing = [f"{g} ({why})" for g, why in service.items() if g not in role_grants]
    assert not missing, "listed as used by the Lambda service but not granted:\n" + "\n".join(missing)
    data_grants = role_grants - set(service)

    # Run the handler with the construct's environment, its resources created on moto.
    side = boto3.Session()
    names: dict[str, dict[str, str]] = {"dynamodb": {}, "s3": {}, "sqs": {}}
    function = template["Resources"][_logical_id(case.stack, case.function.function)]
    env: dict[str, str] = {}
    local: dict[str, str] = {}
    for variable, value in function["Properties"].get("Environment", {}).get("Variables", {}).items():
        if isinstance(value, dict) and list(value) == ["Ref"]:
            local[value["Ref"]] = env[variable] = _provision(side, template, value["Ref"], names)
        else:
            assert isinstance(value, str), f"{variable}: the test cannot resolve {value}"
            env[variable] = value
    for resource in case.extra_resources:
        logical_id = _logical_id(case.stack, resource)
        local[logical_id] = _provision(side, template, logical_id, names)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    session = boto3.Session()
    recorder = Recorder(side)
    recorder.install(session)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    run = Run(load_handler(case.folder), env, recorder, side, names, local)

    case.scenarios(run)

    used = {use for call in recorder.calls for use in uses(call, names)}
    ungranted = sorted(str(u) for u in used if not any(g.covers(u) for g in data_grants))
    unused = {g for g in data_grants if not any(g.covers(u) for u in used)}
    pending = {
        Grant(action, _logical_id(case.stack, construct), pattern): why
        for action, construct, pattern, why in case.not_yet_called
    }
    assert not ungranted, f"{name} calls what its role does not grant:\n" + "\n".join(ungranted)
    unexplained = sorted(str(g) for g in unused if g not in pending)
    assert not unexplained, f"{name}'s role grants what its code never calls:\n" + "\n".join(unexplained)
    for grant, why in pending.items():
        assert grant in data_grants, f"not_yet_called lists {grant}, which the role does not grant"
        if grant in unused:
            warnings.warn(f"{name}: {grant} is granted for a call not made yet ({why})", stacklevel=1)
        else:
            warnings.warn(f"{name}: {grant} is called now: remove it from not_yet_called", stacklevel=1)


def test_the_mapping_covers_transactions_per_item_and_versioned_reads():
    names = {"dynamodb": {"a": "A", "p": "P"}, "s3": {"b": "B"}, "sqs": {"https://q": "Q"}}
    transaction = Call(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "p"}},
                {"Update": {"TableName": "a"}},
                {"Delete": {"TableName": "a"}},
                {"ConditionCheck": {"TableName": "a"}},
            ]
        },
        200,
    )

    assert set(uses(transaction, names)) == {
        Use("dynamodb:PutItem", "P"),
        Use("dynamodb:UpdateItem", "A"),
        Use("dynamodb:DeleteItem", "A"),
        Use("dynamodb:ConditionCheckItem", "A"),
    }
    assert uses(Call("s3", "HeadObject", {"Bucket": "b", "Key": "k", "VersionId": "v"}, 404), names) == [
        Use("s3:GetObjectVersion", "B", "/k"),
        Use("s3:ListBucket", "B", s3_prefix="k"),
    ]
    assert uses(Call("sqs", "SendMessageBatch", {"QueueUrl": "https://q"}, 200), names) == [
        Use("sqs:SendMessage", "Q")
    ]


def test_a_prefix_condition_on_list_bucket_covers_only_keys_under_it():
    grant = Grant("s3:ListBucket", "B", "", json.dumps({"StringLike": {"s3:prefix": ["uploads/*"]}}))

    assert grant.covers(Use("s3:ListBucket", "B", s3_prefix="uploads/gone.jpg"))
    assert not grant.covers(Use("s3:ListBucket", "B", s3_prefix="private/gone.jpg"))
    assert not grant.covers(Use("s3:ListBucket", "B"))


# --- API Gateway's account setting -------------------------------------------------------------------------


def _accounts(assembly) -> dict[str, list[dict]]:
    return {
        stack.stack_name: [
            r for r in stack.template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"
        ]
        for stack in assembly.stacks
    }


def _logging_role(template: dict) -> tuple[str, dict]:
    (account,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"]
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    return role_id, template["Resources"][role_id]


def test_one_stack_of_the_app_holds_the_api_gateway_account_setting_and_the_others_wait_for_it():
    app = new_app()
    analytics = AnalyticsStack(app, "AnalyticsStack")
    web = WebBackendStack(app, "WebBackendStack")

    assembly, findings = synth_with_nag(app)

    assert findings == []
    assert {name: len(found) for name, found in _accounts(assembly).items()} == {
        "AnalyticsStack": 1,
        "WebBackendStack": 0,
    }
    assert [s.stack_name for s in web.dependencies] == ["AnalyticsStack"]
    apis = [c for c in app.node.find_all() if isinstance(c, SecureRestApi)]
    assert len(apis) == 3  # click ingest and recommendations in AnalyticsStack, the items API
    assert all(api.account_setting is apis[0].account_setting for api in apis)
    assert cdk.Stack.of(apis[0].account_setting) is analytics
    for stack in assembly.stacks:
        assert cfn_lint_errors(stack.template) == []


def test_the_api_gateway_logging_role_writes_logs_reads_none_and_keeps_its_permissions_when_retained():
    app = new_app()
    AnalyticsStack(app, "AnalyticsStack")

    template = app.synth().get_stack_by_name("AnalyticsStack").template
    role_id, role = _logging_role(template)

    actions = sorted(
        action
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in _listed(statement["Action"])
    )
    assert actions == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    # Retained with the stack deleted, and its permissions with it: no separate policy to be deleted.
    assert role["DeletionPolicy"] == "Retain"
    assert granted(template, role_id) == set()


def test_context_names_the_stack_that_holds_the_setting_even_when_built_later():
    app = new_app(**{ACCOUNT_STACK_CONTEXT: "Second"})
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    early = SecureRestApi(first, "Api")
    early.api.root.add_method("GET")
    late = SecureRestApi(second, "Api")
    late.api.root.add_method("GET")

    assembly = app.synth()

    assert {name: len(found) for name, found in _accounts(assembly).items()} == {"First": 0, "Second": 1}
    assert early.account_setting is late.account_setting is not None
    assert [s.stack_name for s in first.dependencies] == ["Second"]


def test_context_naming_a_stack_outside_the_app_leaves_the_setting_to_it():
    app = new_app(**{ACCOUNT_STACK_CONTEXT: "PlatformStack"})
    stack = cdk.Stack(app, "Service")
    api = SecureRestApi(stack, "Api")
    api.api.root.add_method("GET")

    assembly = app.synth()

    assert _accounts(assembly) == {"Service": []}
    assert api.account_setting is None


def test_stacks_in_different_regions_each_hold_their_own_setting():
    app = new_app()
    stacks = [
        cdk.Stack(app, name, env=cdk.Environment(account="111111111111", region=region))
        for name, region in (("East", "us-east-1"), ("West", "us-west-2"), ("EastToo", "us-east-1"))
    ]
    for stack in stacks:
        SecureRestApi(stack, "Api").api.root.add_method("GET")

    assembly = app.synth()

    assert {name: len(found) for name, found in _accounts(assembly).items()} == {
        "East": 1,
        "West": 1,
        "EastToo": 0,
    }
    assert [s.stack_name for s in stacks[2].dependencies] == ["East"]
