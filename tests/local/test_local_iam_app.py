"""The local IAM check end to end, on a user app of its own built in a temporary folder outside the
repository: one function granted only ``permissions.read_table(table)``, whose handler reads and then
puts an item. Locally the put must fail as AWS fails it (a botocore ``ClientError``, code
``AccessDeniedException``, AWS's message), the console must name the function, the action and the resource,
and the report must list the grants the function never used; with the check off, the same put succeeds.

The hook itself (``iam_guard.py``) is tested here too, on plain boto3 clients: a denial never reaches the
network, and each service answers with its own error code and status.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from lambda_patterns.local.__main__ import app_options, parse_args
from lambda_patterns.local.iam_guard import Guard

HANDLER = """
import os

import boto3
from botocore.exceptions import ClientError

dynamodb = boto3.client("dynamodb")


def handler(event, context):
    table = os.environ["TABLE"]
    dynamodb.get_item(TableName=table, Key={"pk": {"S": event["id"]}})
    try:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": event["id"]}})
    except ClientError as error:
        return {
            "denied": True,
            "code": error.response["Error"]["Code"],
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            "message": error.response["Error"]["Message"],
            "operation": error.operation_name,
        }
    return {"denied": False}
"""


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    import aws_cdk as cdk
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_

    from lambda_patterns import FunctionPolicy, FunctionRole, ServerlessFunction, permissions

    folder = tmp_path_factory.mktemp("iam-user-app")
    code = folder / "handler"
    code.mkdir()
    (code / "handler.py").write_text(HANDLER)
    out = folder / "cdk.out"
    app = cdk.App(outdir=str(out), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Reader")
    table = dynamodb.Table(
        stack, "Items", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    policy = FunctionPolicy(stack, "Policy", permissions=[permissions.read_table(table)])
    role = FunctionRole(stack, "Role", policy=policy)
    ServerlessFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_asset(str(code)),
        role=role,
        environment={"TABLE": table.table_name},
    )
    app.synth()
    return out


def _invoke(app, item_id: str) -> dict:
    (worker,) = app.workers.values()
    outcome = app.invoke(worker.spec.arn, {"id": item_id}, "test")
    assert outcome.ok, outcome.error
    return outcome.result


@pytest.mark.slow
def test_a_put_the_role_does_not_grant_is_denied_as_aws_denies_it(assembly, tmp_path, caplog):
    from lambda_patterns.local import LocalApp

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    report_file = tmp_path / "iam.json"
    with LocalApp(assembly, schedule_scale=0, iam_report=report_file) as app:
        table = app.find("Reader/Items", "AWS::DynamoDB::Table")
        (worker,) = app.workers.values()
        function, role = worker.spec.name, worker.iam.document["role"]

        result = _invoke(app, "a-1")

        assert (result["denied"], result["code"], result["status"]) == (True, "AccessDeniedException", 400)
        assert result["operation"] == "PutItem"
        assert result["message"] == (
            f"User: arn:aws:sts::123456789012:assumed-role/{role}/{function} is not authorized to perform: "
            f"dynamodb:PutItem on resource: {table['Arn']} because no identity-based policy allows the "
            "dynamodb:PutItem action"
        )
        assert "Item" not in app.client("dynamodb").get_item(TableName=table["Ref"], Key={"pk": {"S": "a-1"}})
        console = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
        assert any(
            function in line and "dynamodb:PutItem" in line and table["Arn"] in line and "denied" in line
            for line in console
        ), console

    report = json.loads(report_file.read_text())
    (entry,) = report["roles"]
    assert report["denied"] == 1 and entry["functions"] == [function]
    assert [(item["action"], item["resource"]) for item in entry["denied"]] == [
        ("dynamodb:PutItem", table["Arn"])
    ]
    assert [(item["action"], item["resource"]) for item in entry["used"]] == [
        ("dynamodb:GetItem", table["Arn"])
    ]
    unused = {(item["action"], item["resource"]) for item in entry["unused"]}
    assert {
        ("dynamodb:Query", table["Arn"]),
        ("dynamodb:Scan", table["Arn"]),
        ("dynamodb:BatchGetItem", table["Arn"]),
        ("dynamodb:Query", table["Arn"] + "/index/*"),
    } <= unused
    assert ("dynamodb:GetItem", table["Arn"]) not in unused
    assert any("IAM least-privilege report" in record.getMessage() for record in caplog.records)


@pytest.mark.slow
def test_with_the_check_off_the_same_put_succeeds(assembly, tmp_path, caplog):
    from lambda_patterns.local import LocalApp

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    options = app_options(parse_args(["--no-iam", "--port-base", "0"]))
    with LocalApp(assembly, **{**options, "schedule_scale": 0}) as app:
        table = app.find("Reader/Items", "AWS::DynamoDB::Table")

        assert _invoke(app, "b-1") == {"denied": False}
        assert "Item" in app.client("dynamodb").get_item(TableName=table["Ref"], Key={"pk": {"S": "b-1"}})
        assert app.iam_report()["roles"] == []
    messages = [record.getMessage() for record in caplog.records]
    assert not [line for line in messages if line.startswith(("IAM:", "IAM least-privilege"))], messages
    assert any("not enforced locally (IAM, " in line for line in messages)


def test_the_command_line_turns_the_check_off_and_names_the_report_file():
    assert app_options(parse_args([]))["iam"] is True
    options = app_options(parse_args(["--no-iam", "--iam-report", "out/iam.json"]))
    assert (options["iam"], options["iam_report"]) == (False, "out/iam.json")


# The hook on plain clients -----------------------------------------------------------------------------

ROLE_DOCUMENT = {
    "function": "fn",
    "role": "R",
    "role_arn": "arn:aws:iam::123456789012:role/R",
    "principal": "arn:aws:sts::123456789012:assumed-role/R/fn",
    "region": "us-east-1",
    "account": "123456789012",
    "identity": [
        {"name": "P", "statements": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    ],
    "boundary": None,
    "context": {},
}


def _client(service: str, endpoint: str, guard: Guard):
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    guard.attach(client)
    return client


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("s3", lambda c: c.get_object(Bucket="b", Key="k"), "AccessDenied", 403),
        (
            "dynamodb",
            lambda c: c.put_item(TableName="T", Item={"pk": {"S": "1"}}),
            "AccessDeniedException",
            400,
        ),
        (
            "kinesis",
            lambda c: c.put_record(StreamName="s", Data=b"x", PartitionKey="p"),
            "AccessDeniedException",
            400,
        ),
        (
            "sqs",
            lambda c: c.send_message(QueueUrl="http://h/123456789012/q", MessageBody="m"),
            "AccessDenied",
            403,
        ),
        (
            "sns",
            lambda c: c.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:t", Message="m"),
            "AuthorizationError",
            403,
        ),
        ("lambda", lambda c: c.invoke(FunctionName="other"), "AccessDeniedException", 403),
    ],
)
def test_a_denied_call_raises_the_services_access_denied_without_reaching_the_network(
    service, call, code, status
):
    guard = Guard(ROLE_DOCUMENT)
    # Nothing listens on port 9: a call that went out would fail with a connection error instead.
    client = _client(service, "http://127.0.0.1:9", guard)

    with pytest.raises(ClientError) as raised:
        call(client)

    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error["Error"]["Message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/R/fn is not authorized"
    )
    (record,) = guard.drain()
    assert record["decision"] == "deny" and record["calls"] == 1


def test_an_allowed_call_goes_out_and_an_unknown_one_is_allowed_and_recorded_as_unchecked(moto_server):
    guard = Guard(ROLE_DOCUMENT)
    s3 = _client("s3", moto_server, guard)
    sts = _client("sts", moto_server, guard)
    dynamodb = _client("dynamodb", moto_server, guard)

    assert "Buckets" in s3.list_buckets()
    assert sts.get_caller_identity()["Account"]
    with pytest.raises(ClientError) as raised:  # moto's own answer: the statement is not PartiQL it has
        dynamodb.execute_statement(Statement="SELECT * FROM missing")
    assert raised.value.response["Error"]["Code"] != "AccessDeniedException"

    records = {record["operation"]: record for record in guard.drain()}
    assert records["s3:ListBuckets"]["decision"] == "allow"
    assert records["dynamodb:ExecuteStatement"]["decision"] == "unchecked"
    assert "sts:GetCallerIdentity" not in records  # needs no permission: nothing to check
