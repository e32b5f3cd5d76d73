"""The local IAM check's table of calls -> IAM actions and resource ARNs (``local/iam_actions.py``)."""

from __future__ import annotations

import pytest

from lambda_patterns.local.iam_actions import TABLE, Need, needs

REGION, ACCOUNT = "us-east-1", "123456789012"
ORDERS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders"
LEDGER = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Ledger"
QUEUE_URL = f"http://127.0.0.1:4566/{ACCOUNT}/jobs"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"


def _pairs(service: str, operation: str, **params) -> list[tuple[str, str]]:
    found = needs(service, operation, params, REGION, ACCOUNT)
    assert found is not None, f"{service} {operation} is not in the table"
    return [(need.action, need.resource) for need in found]


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetObject", {"Key": "in/a.jpg"}, ("s3:GetObject", "arn:aws:s3:::b/in/a.jpg")),
        (
            "GetObject",
            {"Key": "in/a.jpg", "VersionId": "v1"},
            ("s3:GetObjectVersion", "arn:aws:s3:::b/in/a.jpg"),
        ),
        ("HeadObject", {"Key": "k"}, ("s3:GetObject", "arn:aws:s3:::b/k")),
        ("PutObject", {"Key": "out/a.jpg", "Body": b"x"}, ("s3:PutObject", "arn:aws:s3:::b/out/a.jpg")),
        ("DeleteObject", {"Key": "k"}, ("s3:DeleteObject", "arn:aws:s3:::b/k")),
        ("DeleteObject", {"Key": "k", "VersionId": "v"}, ("s3:DeleteObjectVersion", "arn:aws:s3:::b/k")),
        ("ListObjectsV2", {"Prefix": "in/"}, ("s3:ListBucket", "arn:aws:s3:::b")),
        ("ListObjectVersions", {}, ("s3:ListBucketVersions", "arn:aws:s3:::b")),
        ("CreateMultipartUpload", {"Key": "big"}, ("s3:PutObject", "arn:aws:s3:::b/big")),
    ],
)
def test_s3_object_and_bucket_calls(operation, params, expected):
    assert _pairs("s3", operation, Bucket="b", **params) == [expected]


def test_s3_listings_carry_their_prefix_as_the_s3_prefix_condition_key():
    (with_prefix,) = needs("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "in/"}, REGION, ACCOUNT)
    (without,) = needs("s3", "ListObjectsV2", {"Bucket": "b"}, REGION, ACCOUNT)

    assert with_prefix.context["s3:prefix"] == ["in/"]
    assert without.context["s3:prefix"] == [""]


def test_s3_copy_reads_the_source_and_writes_the_destination():
    expected = [("s3:GetObject", "arn:aws:s3:::src/a b.jpg"), ("s3:PutObject", "arn:aws:s3:::dst/k")]

    assert (
        _pairs("s3", "CopyObject", Bucket="dst", Key="k", CopySource={"Bucket": "src", "Key": "a b.jpg"})
        == expected
    )
    assert _pairs("s3", "CopyObject", Bucket="dst", Key="k", CopySource="src/a%20b.jpg") == expected
    versioned = _pairs("s3", "CopyObject", Bucket="dst", Key="k", CopySource="/src/a?versionId=v2")
    assert versioned[0] == ("s3:GetObjectVersion", "arn:aws:s3:::src/a")


def test_s3_delete_objects_needs_delete_object_on_each_key():
    objects = [{"Key": "a"}, {"Key": "b", "VersionId": "v"}]

    assert _pairs("s3", "DeleteObjects", Bucket="b", Delete={"Objects": objects}) == [
        ("s3:DeleteObject", "arn:aws:s3:::b/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::b/b"),
    ]


@pytest.mark.parametrize("operation", ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"])
def test_dynamodb_item_calls_are_their_own_action_on_the_table(operation):
    assert _pairs("dynamodb", operation, TableName="Orders") == [(f"dynamodb:{operation}", ORDERS)]


def test_dynamodb_query_on_an_index_is_on_the_index_and_a_table_arn_is_taken_as_it_is():
    assert _pairs("dynamodb", "Query", TableName="Orders", IndexName="ByDate") == [
        ("dynamodb:Query", ORDERS + "/index/ByDate")
    ]
    other = "arn:aws:dynamodb:eu-west-1:111111111111:table/Remote"
    assert _pairs("dynamodb", "GetItem", TableName=other) == [("dynamodb:GetItem", other)]


def test_dynamodb_batches_need_their_action_on_each_table():
    items = {"Orders": {"Keys": []}, "Ledger": {"Keys": []}}

    assert _pairs("dynamodb", "BatchGetItem", RequestItems=items) == [
        ("dynamodb:BatchGetItem", ORDERS),
        ("dynamodb:BatchGetItem", LEDGER),
    ]
    assert _pairs("dynamodb", "BatchWriteItem", RequestItems={"Orders": []}) == [
        ("dynamodb:BatchWriteItem", ORDERS)
    ]


def test_dynamodb_transactions_need_each_items_own_action_on_its_table():
    items = [
        {"Put": {"TableName": "Orders", "Item": {}}},
        {"Update": {"TableName": "Ledger", "Key": {}}},
        {"Delete": {"TableName": "Orders", "Key": {}}},
        {"ConditionCheck": {"TableName": "Ledger", "Key": {}}},
    ]

    assert _pairs("dynamodb", "TransactWriteItems", TransactItems=items) == [
        ("dynamodb:PutItem", ORDERS),
        ("dynamodb:UpdateItem", LEDGER),
        ("dynamodb:DeleteItem", ORDERS),
        ("dynamodb:ConditionCheckItem", LEDGER),
    ]
    gets = [{"Get": {"TableName": "Ledger", "Key": {}}}]
    assert _pairs("dynamodb", "TransactGetItems", TransactItems=gets) == [("dynamodb:GetItem", LEDGER)]


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("SendMessage", "sqs:SendMessage"),
        ("SendMessageBatch", "sqs:SendMessage"),
        ("ReceiveMessage", "sqs:ReceiveMessage"),
        ("DeleteMessage", "sqs:DeleteMessage"),
        ("GetQueueAttributes", "sqs:GetQueueAttributes"),
    ],
)
def test_sqs_calls_on_a_queue_url_are_on_the_queue_arn(operation, action):
    assert _pairs("sqs", operation, QueueUrl=QUEUE_URL) == [(action, QUEUE)]


def test_sqs_queue_urls_of_aws_give_their_region_and_account_and_get_queue_url_uses_the_name():
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/remote"

    assert _pairs("sqs", "SendMessage", QueueUrl=url) == [
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:111111111111:remote")
    ]
    assert _pairs("sqs", "GetQueueUrl", QueueName="jobs") == [("sqs:GetQueueUrl", QUEUE)]


def test_sns_kinesis_cloudwatch_lambda_and_events():
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:orders"
    stream = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker"

    assert _pairs("sns", "Publish", TopicArn=topic, Message="m") == [("sns:Publish", topic)]
    assert _pairs("kinesis", "PutRecord", StreamName="clicks") == [("kinesis:PutRecord", stream)]
    assert _pairs("kinesis", "PutRecords", StreamARN=stream) == [("kinesis:PutRecords", stream)]
    (metrics,) = needs("cloudwatch", "PutMetricData", {"Namespace": "Shop"}, REGION, ACCOUNT)
    assert (metrics.action, metrics.resource, metrics.context) == (
        "cloudwatch:PutMetricData",
        "*",
        {"cloudwatch:namespace": ["Shop"]},
    )
    assert _pairs("lambda", "Invoke", FunctionName="worker") == [("lambda:InvokeFunction", function)]
    assert _pairs("lambda", "Invoke", FunctionName=function, Qualifier="live") == [
        ("lambda:InvokeFunction", function + ":live")
    ]
    assert _pairs("lambda", "Invoke", FunctionName="worker:live") == [
        ("lambda:InvokeFunction", function + ":live")
    ]
    assert _pairs("events", "PutEvents", Entries=[{"Source": "s"}, {"EventBusName": "shop"}]) == [
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/shop"),
    ]


def test_the_lambda_api_the_runner_serves_maps_to_its_actions_on_the_function():
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker"

    assert _pairs("lambda", "Invoke", FunctionName=f"{ACCOUNT}:function:worker") == [
        ("lambda:InvokeFunction", function)
    ]
    assert _pairs("lambda", "GetFunction", FunctionName="worker", Qualifier="live") == [
        ("lambda:GetFunction", function + ":live")
    ]
    assert _pairs("lambda", "GetFunctionConfiguration", FunctionName=function) == [
        ("lambda:GetFunctionConfiguration", function)
    ]
    assert _pairs("lambda", "ListFunctions", MaxItems=1) == [("lambda:ListFunctions", "*")]


def test_a_call_the_table_does_not_know_is_none_and_one_needing_no_permission_is_empty():
    assert needs("dynamodb", "ExecuteStatement", {"Statement": "SELECT 1"}, REGION, ACCOUNT) is None
    assert needs("sts", "GetCallerIdentity", {}, REGION, ACCOUNT) == []


def test_every_operation_of_the_table_is_a_real_botocore_operation():
    import botocore.session

    session = botocore.session.get_session()
    for service, operation in TABLE:
        assert operation in session.get_service_model(service).operation_names, (service, operation)
    assert Need("a", "r").context == {}
