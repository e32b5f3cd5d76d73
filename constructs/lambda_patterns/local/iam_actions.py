"""Which IAM actions, on which resource ARNs, an AWS API call needs: the table the local IAM check uses.

``needs(service, operation, params, region, account)`` answers with a list of ``Need`` (one per action and
resource the call is authorized for: a ``TransactWriteItems`` needs one per item), an empty list for a call
that needs no permission (``sts:GetCallerIdentity``), or None for a call the table does not know: that call
is allowed and reported as unchecked, never guessed.

``service`` is botocore's service name (``client.meta.service_model.service_name``), ``params`` the call's
API parameters as the handler passed them. Standard library only, no import of the package: the worker
process loads this file by its path.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple


class Need(NamedTuple):
    """One authorization a call needs: the action, the resource ARN (``*`` when the action takes no
    resource) and the condition keys the call supplies (lowercase key -> values, None when absent)."""

    action: str
    resource: str
    context: Mapping[str, Any] = {}


class Where(NamedTuple):
    """The caller's Region and account, for the ARNs a call's parameters name only by name."""

    region: str
    account: str


Rule = Callable[[Mapping[str, Any], Where], list[Need]]


# S3 ---------------------------------------------------------------------------------------------------


def _bucket(params: Mapping[str, Any]) -> str:
    return f"arn:aws:s3:::{params.get('Bucket', '')}"


def _object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3_object(action: str, versioned: str | None = None) -> Rule:
    """``action`` on ``Bucket``/``Key``; with a ``VersionId``, ``versioned`` (S3 authorizes a given version
    as ``...Version``)."""

    def rule(params: Mapping[str, Any], where: Where) -> list[Need]:
        chosen = versioned if versioned and params.get("VersionId") else action
        return [Need(chosen, _object(params.get("Bucket", ""), params.get("Key", "")))]

    return rule


def _copy_source(params: Mapping[str, Any]) -> Need:
    source = params.get("CopySource")
    if isinstance(source, Mapping):
        bucket, key, version = source.get("Bucket", ""), source.get("Key", ""), source.get("VersionId")
    else:
        path, _, query = str(source or "").lstrip("/").partition("?versionId=")
        bucket, _, key = urllib.parse.unquote(path).partition("/")
        version = query or None
    return Need("s3:GetObjectVersion" if version else "s3:GetObject", _object(bucket, key))


def _s3_copy(params: Mapping[str, Any], where: Where) -> list[Need]:
    return [_copy_source(params), *_s3_object("s3:PutObject")(params, where)]


def _s3_list(action: str) -> Rule:
    def rule(params: Mapping[str, Any], where: Where) -> list[Need]:
        # S3 evaluates a listing without a prefix as the empty prefix.
        context = {
            "s3:prefix": [params.get("Prefix", "")],
            "s3:delimiter": [params["Delimiter"]] if "Delimiter" in params else None,
            "s3:max-keys": [str(params["MaxKeys"])] if "MaxKeys" in params else None,
        }
        return [Need(action, _bucket(params), context)]

    return rule


def _s3_bucket(action: str) -> Rule:
    return lambda params, where: [Need(action, _bucket(params))]


def _s3_delete_objects(params: Mapping[str, Any], where: Where) -> list[Need]:
    bucket = params.get("Bucket", "")
    return [
        Need(
            "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject",
            _object(bucket, item.get("Key", "")),
        )
        for item in (params.get("Delete") or {}).get("Objects", [])
    ]


# DynamoDB ---------------------------------------------------------------------------------------------


def table_arn(name: str, where: Where) -> str:
    """A table's ARN from its name (or the ARN DynamoDB also accepts)."""
    return (
        name if name.startswith("arn:") else f"arn:aws:dynamodb:{where.region}:{where.account}:table/{name}"
    )


def _table(action: str) -> Rule:
    """``action`` on ``TableName``, or on its index for a ``Query``/``Scan`` with ``IndexName``."""

    def rule(params: Mapping[str, Any], where: Where) -> list[Need]:
        resource = table_arn(str(params.get("TableName", "")), where)
        if params.get("IndexName"):
            resource = f"{resource}/index/{params['IndexName']}"
        return [Need(action, resource)]

    return rule


def _per_table(action: str) -> Rule:
    """Batch calls: ``action`` once on each table of ``RequestItems``."""
    return lambda params, where: [
        Need(action, table_arn(name, where)) for name in (params.get("RequestItems") or {})
    ]


_TRANSACT_WRITE = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def _transact(actions: Mapping[str, str]) -> Rule:
    """Transactions: each item is authorized as its own operation on its own table."""

    def rule(params: Mapping[str, Any], where: Where) -> list[Need]:
        found = []
        for item in params.get("TransactItems") or []:
            for kind, action in actions.items():
                if kind in item:
                    found.append(Need(action, table_arn(str(item[kind].get("TableName", "")), where)))
        return found

    return rule


# SQS, SNS, Kinesis, Lambda, EventBridge, CloudWatch ------------------------------------------------------


def queue_arn(url: str, where: Where) -> str:
    """A queue's ARN from its URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``, or moto's
    ``http://127.0.0.1:<port>/<account>/<name>``)."""
    parsed = urllib.parse.urlparse(url)
    parts = [part for part in parsed.path.split("/") if part]
    account, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (where.account, parts[-1] if parts else "")
    host = parsed.hostname or ""
    region = host.split(".")[1] if host.startswith("sqs.") and host.count(".") >= 3 else where.region
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _queue(action: str) -> Rule:
    return lambda params, where: [Need(action, queue_arn(str(params.get("QueueUrl", "")), where))]


def _queue_by_name(params: Mapping[str, Any], where: Where) -> list[Need]:
    account = params.get("QueueOwnerAWSAccountId") or where.account
    return [Need("sqs:GetQueueUrl", f"arn:aws:sqs:{where.region}:{account}:{params.get('QueueName', '')}")]


def _topic(params: Mapping[str, Any], where: Where) -> list[Need]:
    target = params.get("TopicArn") or params.get("TargetArn")
    # A publish to a phone number is authorized on no resource.
    return [Need("sns:Publish", str(target) if target else "*")]


def stream_arn(params: Mapping[str, Any], where: Where) -> str:
    """A Kinesis stream's ARN from ``StreamARN`` or ``StreamName``."""
    if params.get("StreamARN"):
        return str(params["StreamARN"])
    return f"arn:aws:kinesis:{where.region}:{where.account}:stream/{params.get('StreamName', '')}"


def _stream(action: str) -> Rule:
    return lambda params, where: [Need(action, stream_arn(params, where))]


def function_arn(name: str, qualifier: str | None, where: Where) -> str:
    """A function's ARN from a name, partial ARN or ARN, qualified by the alias or version it names:
    IAM authorizes ``function:name:alias`` separately from ``function:name``."""
    if name.startswith("arn:"):
        base = name
    elif ":function:" in name:
        base = f"arn:aws:lambda:{where.region}:{name}"
    else:
        base = f"arn:aws:lambda:{where.region}:{where.account}:function:{name}"
    parts = base.split(":")
    if qualifier and len(parts) == 7:
        parts.append(qualifier)
    return ":".join(parts)


def _function(action: str) -> Rule:
    return lambda params, where: [
        Need(action, function_arn(str(params.get("FunctionName", "")), params.get("Qualifier"), where))
    ]


def _event_buses(params: Mapping[str, Any], where: Where) -> list[Need]:
    buses = dict.fromkeys(
        str(entry.get("EventBusName") or "default") for entry in params.get("Entries") or []
    )
    prefix = f"arn:aws:events:{where.region}:{where.account}:event-bus/"
    return [Need("events:PutEvents", bus if bus.startswith("arn:") else prefix + bus) for bus in buses]


def _metrics(params: Mapping[str, Any], where: Where) -> list[Need]:
    namespace = params.get("Namespace")
    return [
        Need("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": [namespace] if namespace else None})
    ]


def _anywhere(action: str) -> Rule:
    return lambda params, where: [Need(action, "*")]


def _nothing(params: Mapping[str, Any], where: Where) -> list[Need]:
    return []


#: (botocore service name, operation) -> how the call is authorized.
TABLE: Mapping[tuple[str, str], Rule] = {
    ("s3", "GetObject"): _s3_object("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "HeadObject"): _s3_object("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "GetObjectAttributes"): _s3_object("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    ("s3", "GetObjectTagging"): _s3_object("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    ("s3", "PutObjectTagging"): _s3_object("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    ("s3", "PutObject"): _s3_object("s3:PutObject"),
    ("s3", "CreateMultipartUpload"): _s3_object("s3:PutObject"),
    ("s3", "UploadPart"): _s3_object("s3:PutObject"),
    ("s3", "CompleteMultipartUpload"): _s3_object("s3:PutObject"),
    ("s3", "AbortMultipartUpload"): _s3_object("s3:AbortMultipartUpload"),
    ("s3", "ListParts"): _s3_object("s3:ListMultipartUploadParts"),
    ("s3", "CopyObject"): _s3_copy,
    ("s3", "UploadPartCopy"): _s3_copy,
    ("s3", "DeleteObject"): _s3_object("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "DeleteObjects"): _s3_delete_objects,
    ("s3", "ListObjectsV2"): _s3_list("s3:ListBucket"),
    ("s3", "ListObjects"): _s3_list("s3:ListBucket"),
    ("s3", "ListObjectVersions"): _s3_list("s3:ListBucketVersions"),
    ("s3", "ListMultipartUploads"): _s3_bucket("s3:ListBucketMultipartUploads"),
    ("s3", "HeadBucket"): _s3_bucket("s3:ListBucket"),
    ("s3", "GetBucketLocation"): _s3_bucket("s3:GetBucketLocation"),
    ("s3", "ListBuckets"): _anywhere("s3:ListAllMyBuckets"),
    ("dynamodb", "GetItem"): _table("dynamodb:GetItem"),
    ("dynamodb", "PutItem"): _table("dynamodb:PutItem"),
    ("dynamodb", "UpdateItem"): _table("dynamodb:UpdateItem"),
    ("dynamodb", "DeleteItem"): _table("dynamodb:DeleteItem"),
    ("dynamodb", "Query"): _table("dynamodb:Query"),
    ("dynamodb", "Scan"): _table("dynamodb:Scan"),
    ("dynamodb", "DescribeTable"): _table("dynamodb:DescribeTable"),
    ("dynamodb", "DescribeTimeToLive"): _table("dynamodb:DescribeTimeToLive"),
    ("dynamodb", "BatchGetItem"): _per_table("dynamodb:BatchGetItem"),
    ("dynamodb", "BatchWriteItem"): _per_table("dynamodb:BatchWriteItem"),
    ("dynamodb", "TransactWriteItems"): _transact(_TRANSACT_WRITE),
    ("dynamodb", "TransactGetItems"): _transact({"Get": "dynamodb:GetItem"}),
    ("dynamodb", "ListTables"): _anywhere("dynamodb:ListTables"),
    ("sqs", "SendMessage"): _queue("sqs:SendMessage"),
    ("sqs", "SendMessageBatch"): _queue("sqs:SendMessage"),
    ("sqs", "ReceiveMessage"): _queue("sqs:ReceiveMessage"),
    ("sqs", "DeleteMessage"): _queue("sqs:DeleteMessage"),
    ("sqs", "DeleteMessageBatch"): _queue("sqs:DeleteMessage"),
    ("sqs", "ChangeMessageVisibility"): _queue("sqs:ChangeMessageVisibility"),
    ("sqs", "ChangeMessageVisibilityBatch"): _queue("sqs:ChangeMessageVisibility"),
    ("sqs", "GetQueueAttributes"): _queue("sqs:GetQueueAttributes"),
    ("sqs", "SetQueueAttributes"): _queue("sqs:SetQueueAttributes"),
    ("sqs", "PurgeQueue"): _queue("sqs:PurgeQueue"),
    ("sqs", "GetQueueUrl"): _queue_by_name,
    ("sqs", "ListQueues"): _anywhere("sqs:ListQueues"),
    ("sns", "Publish"): _topic,
    ("sns", "PublishBatch"): _topic,
    ("kinesis", "PutRecord"): _stream("kinesis:PutRecord"),
    ("kinesis", "PutRecords"): _stream("kinesis:PutRecords"),
    ("kinesis", "DescribeStream"): _stream("kinesis:DescribeStream"),
    ("kinesis", "DescribeStreamSummary"): _stream("kinesis:DescribeStreamSummary"),
    ("kinesis", "ListShards"): _stream("kinesis:ListShards"),
    ("kinesis", "GetShardIterator"): _stream("kinesis:GetShardIterator"),
    ("cloudwatch", "PutMetricData"): _metrics,
    ("lambda", "Invoke"): _function("lambda:InvokeFunction"),
    ("lambda", "InvokeWithResponseStream"): _function("lambda:InvokeFunction"),
    ("lambda", "GetFunction"): _function("lambda:GetFunction"),
    ("lambda", "GetFunctionConfiguration"): _function("lambda:GetFunctionConfiguration"),
    ("lambda", "ListFunctions"): _anywhere("lambda:ListFunctions"),
    ("events", "PutEvents"): _event_buses,
    ("sts", "GetCallerIdentity"): _nothing,
}


def needs(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> list[Need] | None:
    """What the call needs (see the module's docstring); None when the table does not know it."""
    rule = TABLE.get((service, operation))
    return None if rule is None else rule(params, Where(region, account))
