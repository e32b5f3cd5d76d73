"""Step 1's vocabulary: least-privilege permissions named by intent, not by IAM action lists.

Each function returns a ``Permission``: the exact actions and resources, whether it reads, writes or
deletes (so the recursion check can see a trigger loop), and, where AWS offers no narrower form, the cdk-nag
acknowledgement with its reason. ``FunctionPolicy`` turns a list of them into one inline policy.

Prefer the narrow intents, one per action family and resource, so a role holds exactly what its code
calls: ``get_items``/``batch_get_items``, ``put_items``, ``update_items``, ``delete_items``, ``check_items``,
``query_items`` and ``scan_items`` per table; ``read_objects``, ``put_objects``, ``delete_objects`` and
``list_objects`` per bucket and prefix; ``send_messages`` per queue. ``read_table``, ``write_table``,
``write_objects`` and ``send`` grant whole families (every write of a table, multipart uploads, queue
lookups) for code that needs them all.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aws_cdk import Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

from lambda_patterns.checks.literal_scope import (
    check_literal_index,
    check_literal_namespace,
    check_literal_prefix,
)
from lambda_patterns.checks.table_stream import check_table_stream
from lambda_patterns.checks.wildcard_reason import check_wildcard_reason
from lambda_patterns.jsii_reads import path_of


class Access(enum.Enum):
    """What a grant does to its resource, for the trigger-recursion check (``checks.recursion``)."""

    READ = "read"
    #: Creates or changes data: S3 reports it as ObjectCreated, a stream or queue as a new record.
    WRITE = "write"
    #: Removes S3 objects: S3 reports it as ObjectRemoved, not ObjectCreated, so it loops only under a
    #: removal trigger. (A table's deletes stay ``WRITE``: its stream reports every change alike.)
    DELETE = "delete"
    OTHER = "other"


@dataclass(frozen=True)
class Acknowledgement:
    """A cdk-nag finding this permission accepts on purpose. ``applies_to`` is the finding's detail
    (``Resource::<arn>``) where the ARN may hold tokens; ``nag.acknowledge`` spells it as cdk-nag does."""

    rule_id: str
    applies_to: str | dict | None
    reason: str


@dataclass(frozen=True)
class Permission:
    """One least-privilege grant. Build it with the functions below rather than by hand."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    access: Access = Access.OTHER
    #: The node path of the resource the permission reaches, for the trigger-recursion check.
    resource_id: str | None = None
    #: For S3 object permissions: the key prefix, ``None`` for the whole bucket.
    prefix: str | None = None
    conditions: dict | None = None
    acknowledgements: tuple[Acknowledgement, ...] = field(default_factory=tuple)
    #: The customer managed KMS key encrypting the resource, and what the grant needs to do with it.
    key_arn: str | None = None
    key_actions: tuple[str, ...] = ()

    def statement(self) -> iam.PolicyStatement:
        """The grant on the resource itself."""
        return iam.PolicyStatement(
            actions=list(self.actions), resources=list(self.resources), conditions=self.conditions
        )

    def statements(self) -> list[iam.PolicyStatement]:
        """The grant, plus the use of the resource's customer managed key when it has one."""
        statements = [self.statement()]
        if self.key_arn is not None and self.key_actions:
            statements.append(iam.PolicyStatement(actions=list(self.key_actions), resources=[self.key_arn]))
        return statements


def _with_key(permission: Permission, key: Any, actions: Sequence[str]) -> Permission:
    """``permission`` extended to the customer managed key ``key`` (None: not encrypted with one).

    Without the key grant the resource's API answers AccessDenied at run time although every
    resource-level action is allowed. An alias (``alias/aws/sns`` and the other AWS managed keys) needs no
    grant: an AWS managed key's policy lets the account's principals use it through its service.
    """
    if key is None or hasattr(key, "alias_name"):
        return permission
    return replace(permission, key_arn=key.key_arn, key_actions=tuple(actions))


def _on_resource(
    resource: IConstruct,
    arn: str,
    actions: tuple[str, ...],
    access: Access,
    key: Any,
    key_actions: Sequence[str],
) -> Permission:
    """``actions`` on the one ARN ``arn`` of ``resource``, extended to its customer managed ``key``."""
    permission = Permission(actions=actions, resources=(arn,), access=access, resource_id=path_of(resource))
    return _with_key(permission, key, key_actions)


# What each use of an encrypted resource asks of its KMS key (the services' documented requirements).
_S3_READ_KEY = ("kms:Decrypt",)
_S3_WRITE_KEY = ("kms:GenerateDataKey", "kms:Decrypt")  # Decrypt: multipart uploads read the data key
_S3_PUT_KEY = ("kms:GenerateDataKey",)  # a single PutObject only asks for a new data key
_S3_DELETE_KEY = ()  # a delete neither encrypts nor decrypts: S3 asks nothing of the bucket's key
_TABLE_READ_KEY = ("kms:Decrypt", "kms:DescribeKey")
_TABLE_WRITE_KEY = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
_PRODUCER_KEY = ("kms:GenerateDataKey", "kms:Decrypt")  # SQS SendMessage, SNS Publish
_KINESIS_WRITE_KEY = ("kms:GenerateDataKey",)
_KINESIS_READ_KEY = ("kms:Decrypt",)


def _object_ack(bucket: s3.IBucket, pattern: str, reason: str) -> Acknowledgement:
    return Acknowledgement("AwsSolutions-IAM5", f"Resource::{bucket.arn_for_objects(pattern)}", reason)


def _objects(
    bucket: s3.IBucket, prefix: str | None, actions: tuple[str, ...], access: Access, verb: str, key_actions
) -> Permission:
    check_literal_prefix(prefix)
    pattern = f"{prefix or ''}*"
    permission = Permission(
        actions=actions,
        resources=(bucket.arn_for_objects(pattern),),
        access=access,
        resource_id=path_of(bucket),
        prefix=prefix,
        acknowledgements=(
            _object_ack(
                bucket, pattern, f"Object {verb} need a key wildcard; scoped to prefix {prefix or '(all)'}"
            ),
        ),
    )
    return _with_key(permission, bucket.encryption_key, key_actions)


def read_objects(bucket: s3.IBucket, prefix: str | None = None, *, versions: bool = False) -> Permission:
    """Read objects (GetObject, which HeadObject also needs) under ``prefix`` of ``bucket``. Default prefix:
    the whole bucket.

    :param versions: also read given versions (GetObjectVersion: a GetObject or HeadObject with
        ``VersionId``, e.g. the version an S3 event names in a versioned bucket). Default: False.
    """
    actions = ("s3:GetObject", "s3:GetObjectVersion") if versions else ("s3:GetObject",)
    return _objects(bucket, prefix, actions, Access.READ, "reads", _S3_READ_KEY)


def put_objects(bucket: s3.IBucket, prefix: str | None = None) -> Permission:
    """Put objects (PutObject, single-request uploads) under ``prefix`` of ``bucket``.

    Unlike ``write_objects`` it grants no AbortMultipartUpload and, for a bucket with a customer managed
    key, no kms:Decrypt: both serve multipart uploads only (``upload_file`` of a large file, for instance).
    """
    return _objects(bucket, prefix, ("s3:PutObject",), Access.WRITE, "writes", _S3_PUT_KEY)


def write_objects(bucket: s3.IBucket, prefix: str | None = None) -> Permission:
    """Write objects (PutObject, AbortMultipartUpload) under ``prefix`` of ``bucket``, multipart uploads
    included. Code that only calls PutObject needs ``put_objects``."""
    return _objects(
        bucket, prefix, ("s3:PutObject", "s3:AbortMultipartUpload"), Access.WRITE, "writes", _S3_WRITE_KEY
    )


def delete_objects(bucket: s3.IBucket, prefix: str | None = None) -> Permission:
    """Delete objects (DeleteObject) under ``prefix`` of ``bucket``: the current version, which in a
    versioned bucket leaves a delete marker (deleting a given version needs DeleteObjectVersion, not granted).

    S3 reports a delete as ObjectRemoved, so the recursion check refuses it under a trigger on removals of
    the same prefix, and lets it pass under a trigger on creations. A bucket's customer managed key is not
    involved: a delete reads and writes no object data.
    """
    return _objects(bucket, prefix, ("s3:DeleteObject",), Access.DELETE, "deletes", _S3_DELETE_KEY)


def list_objects(bucket: s3.IBucket, prefix: str | None = None) -> Permission:
    """List the keys of ``bucket`` under ``prefix`` (ListBucket on the bucket itself, no key wildcard;
    with a prefix, an ``s3:prefix`` condition limits it to listings of that prefix). Default: every key.

    Give it with ``read_objects`` when the function must tell a deleted object from a forbidden one: S3
    answers a GetObject or HeadObject of a missing key with 404 NoSuchKey only to callers that may list
    that key, and with 403 AccessDenied to everyone else. To decide, S3 evaluates ListBucket with the
    requested key as ``s3:prefix``, so a grant limited to the prefix the function reads still gets 404s
    there, and lists nothing else.
    """
    check_literal_prefix(prefix)
    return Permission(
        actions=("s3:ListBucket",),
        resources=(bucket.bucket_arn,),
        access=Access.READ,
        resource_id=path_of(bucket),
        prefix=prefix,
        conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None,
    )


def _index_ack(table: dynamodb.ITable, reason: str) -> Acknowledgement:
    return Acknowledgement("AwsSolutions-IAM5", f"Resource::{table.table_arn}/index/*", reason)


_TABLE_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
_TABLE_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)


def _items(
    table: dynamodb.ITable, actions: tuple[str, ...], access: Access, key_actions: tuple[str, ...]
) -> Permission:
    return _on_resource(table, table.table_arn, actions, access, table.encryption_key, key_actions)


def read_table(table: dynamodb.ITable) -> Permission:
    """Every read of ``table``: get, batch get, query (any index), scan, condition checks, DescribeTable.
    For code that makes only some of these, the narrow intents (``get_items``...) are the least privilege."""
    permission = Permission(
        actions=_TABLE_READ,
        resources=(table.table_arn, f"{table.table_arn}/index/*"),
        access=Access.READ,
        resource_id=path_of(table),
        acknowledgements=(_index_ack(table, "Queries may use any index of this one table"),),
    )
    return _with_key(permission, table.encryption_key, _TABLE_READ_KEY)


def write_table(table: dynamodb.ITable) -> Permission:
    """Every write of ``table``: put, update, delete, batch write, condition checks, DescribeTable. Code
    that makes only some of these needs ``put_items``, ``update_items`` or ``delete_items``."""
    return _items(table, _TABLE_WRITE, Access.WRITE, _TABLE_WRITE_KEY)


def read_write_table(table: dynamodb.ITable) -> list[Permission]:
    """Both ``read_table`` and ``write_table``."""
    return [read_table(table), write_table(table)]


def get_items(table: dynamodb.ITable, *, batch: bool = True) -> Permission:
    """Read items of ``table`` by key: GetItem (and a TransactGetItems ``Get``), and with ``batch``
    BatchGetItem."""
    actions = ("dynamodb:GetItem", "dynamodb:BatchGetItem") if batch else ("dynamodb:GetItem",)
    return _items(table, actions, Access.READ, _TABLE_READ_KEY)


def batch_get_items(table: dynamodb.ITable) -> Permission:
    """Read items of ``table`` by key in batches only: BatchGetItem, without GetItem."""
    return _items(table, ("dynamodb:BatchGetItem",), Access.READ, _TABLE_READ_KEY)


def put_items(table: dynamodb.ITable) -> Permission:
    """Create or replace items of ``table``: PutItem (conditional puts, and a TransactWriteItems ``Put``)."""
    return _items(table, ("dynamodb:PutItem",), Access.WRITE, _TABLE_WRITE_KEY)


def update_items(table: dynamodb.ITable) -> Permission:
    """Change attributes of items of ``table``: UpdateItem (conditional updates, and a TransactWriteItems
    ``Update``). It creates an item that does not exist yet unless a condition forbids it."""
    return _items(table, ("dynamodb:UpdateItem",), Access.WRITE, _TABLE_WRITE_KEY)


def delete_items(table: dynamodb.ITable) -> Permission:
    """Delete items of ``table``: DeleteItem (conditional deletes, and a TransactWriteItems ``Delete``)."""
    return _items(table, ("dynamodb:DeleteItem",), Access.WRITE, _TABLE_WRITE_KEY)


def check_items(table: dynamodb.ITable) -> Permission:
    """Check conditions on items of ``table`` inside a transaction: a TransactWriteItems ``ConditionCheck``
    (ConditionCheckItem). Conditions of a Put, Update or Delete need nothing beyond that write."""
    return _items(table, ("dynamodb:ConditionCheckItem",), Access.READ, _TABLE_READ_KEY)


def query_items(table: dynamodb.ITable, indexes: Sequence[str] = ()) -> Permission:
    """Query ``table`` and, by name, some of its indexes (no index wildcard, so nothing to acknowledge)."""
    for name in indexes:
        check_literal_index(name)
    permission = Permission(
        actions=("dynamodb:Query",),
        resources=(table.table_arn, *(f"{table.table_arn}/index/{name}" for name in indexes)),
        access=Access.READ,
        resource_id=path_of(table),
    )
    return _with_key(permission, table.encryption_key, _TABLE_READ_KEY)


def scan_items(table: dynamodb.ITable) -> Permission:
    """Scan ``table`` (not its indexes)."""
    return _items(table, ("dynamodb:Scan",), Access.READ, _TABLE_READ_KEY)


def crud_items(table: dynamodb.ITable) -> Permission:
    """Get, put, delete and scan items of ``table``: exactly what a CRUD API over one table needs, without
    UpdateItem, batches, transactions, queries or ``DescribeTable``, and without reaching its indexes."""
    actions = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan")
    return _items(table, actions, Access.WRITE, _TABLE_WRITE_KEY)


_KINESIS_CONSUME = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:SubscribeToShard",
)
_DYNAMODB_STREAM_CONSUME = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


def consume_stream(source: kinesis.IStream | dynamodb.ITable) -> list[Permission]:
    """Read records from a Kinesis stream, or from a DynamoDB table's stream, as a consumer that is not a
    Lambda trigger does (triggers get these permissions from their event source mapping)."""
    # jsii interfaces are Protocols, not runtime-checkable: tell them apart by what they expose.
    if hasattr(source, "stream_arn"):
        key = source.encryption_key
        return [
            _on_resource(source, source.stream_arn, _KINESIS_CONSUME, Access.READ, key, _KINESIS_READ_KEY)
        ]
    check_table_stream("consume_stream()", path_of(source), source.table_stream_arn)
    return [
        Permission(
            actions=_DYNAMODB_STREAM_CONSUME,
            resources=(source.table_stream_arn,),
            access=Access.READ,
            resource_id=path_of(source),
        ),
        Permission(
            actions=("dynamodb:ListStreams",),
            resources=("*",),
            acknowledgements=(
                Acknowledgement(
                    "AwsSolutions-IAM5",
                    "Resource::*",
                    "dynamodb:ListStreams supports no resource-level permissions",
                ),
            ),
        ),
    ]


def put_records(stream: kinesis.IStream) -> Permission:
    """Write records to a Kinesis stream."""
    actions = ("kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary")
    key = stream.encryption_key
    return _on_resource(stream, stream.stream_arn, actions, Access.WRITE, key, _KINESIS_WRITE_KEY)


def publish(topic: sns.ITopic) -> Permission:
    """Publish to one SNS topic."""
    return _on_resource(
        topic, topic.topic_arn, ("sns:Publish",), Access.WRITE, topic.master_key, _PRODUCER_KEY
    )


def _send(queue: sqs.IQueue, actions: tuple[str, ...]) -> Permission:
    return _on_resource(
        queue, queue.queue_arn, actions, Access.WRITE, queue.encryption_master_key, _PRODUCER_KEY
    )


def send_messages(queue: sqs.IQueue) -> Permission:
    """Send messages to one SQS queue by its URL: SendMessage, which SendMessageBatch also needs."""
    return _send(queue, ("sqs:SendMessage",))


def send(queue: sqs.IQueue) -> Permission:
    """Send messages to one SQS queue, and look it up (GetQueueUrl, GetQueueAttributes). Code given the
    queue's URL needs only ``send_messages``."""
    return _send(queue, ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"))


def put_metrics(namespace: str) -> Permission:
    """PutMetricData in one namespace. (Handlers here prefer Embedded Metric Format, which needs none.)"""
    check_literal_namespace(namespace)
    return Permission(
        actions=("cloudwatch:PutMetricData",),
        resources=("*",),
        conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
        acknowledgements=(
            Acknowledgement(
                "AwsSolutions-IAM5",
                "Resource::*",
                f"PutMetricData has no resource-level permissions; a condition limits it to namespace {namespace}",
            ),
        ),
    )


def write_logs(log_group: logs.ILogGroup) -> Permission:
    """CreateLogStream and PutLogEvents on one log group: the function's own, not /aws/lambda/*."""
    return Permission(
        actions=("logs:CreateLogStream", "logs:PutLogEvents"),
        resources=(log_group.log_group_arn,),
        resource_id=path_of(log_group),
    )


def allow(actions: Sequence[str], resources: Sequence[str], reason: str | None = None) -> Permission:
    """An explicit statement. A ``*`` in an action or resource needs ``reason``, which becomes the cdk-nag
    acknowledgement."""
    wildcards = [f"Action::{a}" for a in actions if "*" in a]
    wildcards += [f"Resource::{r}" for r in resources if not Token.is_unresolved(r) and "*" in r]
    check_wildcard_reason(wildcards, reason)
    return Permission(
        actions=tuple(actions),
        resources=tuple(resources),
        acknowledgements=tuple(Acknowledgement("AwsSolutions-IAM5", w, reason) for w in wildcards if reason),
    )
