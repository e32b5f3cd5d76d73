"""Local names and attributes of every template resource, and their creation on moto's server."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from lambda_patterns.local.assembly import Resource, Stack
from lambda_patterns.local.intrinsics import ACCOUNT_ID, REGION, Scope, resolve
from lambda_patterns.local.naming import arn, local_name, queue_url

log = logging.getLogger("lambda_patterns.local")

#: Resource types with no effect on local behaviour: permissions, logging, deployment plumbing.
NOT_ENFORCED_PREFIXES = (
    "AWS::IAM::",
    "AWS::Lambda::Permission",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Logs::",
    "AWS::CDK::Metadata",
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::Deployment",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Version",
    "AWS::CloudWatch::Alarm",
)


def short_id(*parts: str, length: int = 10) -> str:
    """A stable lowercase id such as API Gateway's (``a1b2c3d4e5``) from the parts that identify it."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def base_attributes(resource: Resource, endpoint: str) -> dict[str, Any] | None:
    """The Ref value and attributes of a resource the runner emulates, computed from its local name; None
    for a type it does not know. Nothing is created here."""
    name = local_name(resource.stack, resource.logical_id, resource.type, resource.properties)
    kind = resource.type
    if kind == "AWS::S3::Bucket":
        return {
            "Ref": name,
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{REGION}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{REGION}.amazonaws.com",
        }
    if kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
        # StreamArn is added once moto has created the stream (its label is a timestamp).
        return {"Ref": name, "Arn": arn("dynamodb", f"table/{name}")}
    if kind == "AWS::SQS::Queue":
        url = queue_url(endpoint, name)
        return {"Ref": url, "QueueUrl": url, "Arn": arn("sqs", name), "QueueName": name}
    if kind == "AWS::SNS::Topic":
        topic = arn("sns", name)
        return {"Ref": topic, "TopicArn": topic, "TopicName": name}
    if kind == "AWS::Kinesis::Stream":
        return {"Ref": name, "Arn": arn("kinesis", f"stream/{name}")}
    if kind == "AWS::Lambda::Function":
        return {"Ref": name, "Arn": arn("lambda", f"function:{name}")}
    if kind == "AWS::IAM::Role":
        return {
            "Ref": name,
            "Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
            "RoleId": short_id(name, length=21),
        }
    if kind == "AWS::Logs::LogGroup":
        return {"Ref": name, "Arn": arn("logs", f"log-group:{name}:*")}
    if kind == "AWS::Events::Rule":
        return {"Ref": name, "Arn": arn("events", f"rule/{name}")}
    if kind == "AWS::ApiGateway::RestApi":
        api_id = short_id(resource.stack, resource.logical_id)
        return {"Ref": api_id, "RestApiId": api_id, "RootResourceId": short_id(api_id, "/")}
    if kind == "AWS::ApiGateway::Resource":
        return {
            "Ref": short_id(resource.stack, resource.logical_id),
            "ResourceId": short_id(resource.stack, resource.logical_id),
        }
    if kind == "AWS::ApiGateway::Stage":
        stage = resource.properties.get("StageName")
        return {"Ref": stage} if isinstance(stage, str) else None
    if kind == "AWS::ApiGateway::Model":
        # Ref is the model's name; CloudFormation makes one up when the template gives none.
        model = resource.properties.get("Name")
        return {"Ref": model if isinstance(model, str) else resource.logical_id}
    if kind == "AWS::ApiGateway::RequestValidator":
        return {
            "Ref": short_id(resource.stack, resource.logical_id),
            "RequestValidatorId": short_id(resource.stack, resource.logical_id),
        }
    if kind == "AWS::ApiGateway::Deployment":
        return {
            "Ref": short_id(resource.stack, resource.logical_id),
            "DeploymentId": short_id(resource.stack, resource.logical_id),
        }
    return None


def alias_attributes(resource: Resource, scope: Scope) -> dict[str, Any]:
    """An alias or version of a function: its ARN is the function's ARN plus the qualifier."""
    function = str(resolve(resource.properties.get("FunctionName"), scope))
    function_arn = function if function.startswith("arn:") else arn("lambda", f"function:{function}")
    qualifier = resource.properties.get("Name") if resource.type == "AWS::Lambda::Alias" else "1"
    qualified = f"{function_arn}:{qualifier}"
    return {"Ref": qualified, "AliasArn": qualified, "FunctionArn": qualified, "Version": "1"}


def table_request(resource: Resource, scope: Scope) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``CreateTable`` arguments for an ``AWS::DynamoDB::Table`` or ``GlobalTable``, and its TTL spec."""
    props = resolve(dict(resource.properties), scope)
    request: dict[str, Any] = {
        "TableName": scope.attributes[resource.logical_id]["Ref"],
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
    }
    if props.get("ProvisionedThroughput"):
        request["BillingMode"] = "PROVISIONED"
        request["ProvisionedThroughput"] = {
            key: int(value) for key, value in props["ProvisionedThroughput"].items()
        }
    else:
        request["BillingMode"] = "PAY_PER_REQUEST"
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = []
        for index in props.get(key, ()):
            entry = {name: index[name] for name in ("IndexName", "KeySchema", "Projection") if name in index}
            if request["BillingMode"] == "PROVISIONED" and key == "GlobalSecondaryIndexes":
                entry["ProvisionedThroughput"] = {
                    name: int(value)
                    for name, value in (
                        index.get("ProvisionedThroughput") or request["ProvisionedThroughput"]
                    ).items()
                }
            indexes.append(entry)
        if indexes:
            request[key] = indexes
    stream = props.get("StreamSpecification") or {}
    if stream.get("StreamViewType"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    ttl = props.get("TimeToLiveSpecification")
    return request, ttl


def queue_request(resource: Resource, scope: Scope) -> dict[str, Any]:
    """``CreateQueue`` arguments: the attributes that change behaviour (timeouts, redrive, FIFO)."""
    props = resolve(dict(resource.properties), scope)
    attributes: dict[str, str] = {}
    for key in (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    ):
        if key in props:
            value = props[key]
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if "RedrivePolicy" in props:
        policy = props["RedrivePolicy"]
        attributes["RedrivePolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    return {"QueueName": scope.attributes[resource.logical_id]["QueueName"], "Attributes": attributes}


def stream_request(resource: Resource, scope: Scope) -> dict[str, Any]:
    """``CreateStream`` arguments for a Kinesis stream (on-demand streams get moto's on-demand mode)."""
    props = resolve(dict(resource.properties), scope)
    request: dict[str, Any] = {"StreamName": scope.attributes[resource.logical_id]["Ref"]}
    mode = (props.get("StreamModeDetails") or {}).get("StreamMode")
    if mode == "ON_DEMAND" or "ShardCount" not in props:
        request["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        request["ShardCount"] = int(props["ShardCount"])
    return request


class Provisioner:
    """Creates a stack's buckets, tables, queues, topics and streams on moto's server."""

    def __init__(self, clients: Mapping[str, Any]) -> None:
        self._clients = clients

    def create(self, stack: Stack, scope: Scope) -> None:
        """Creates every emulated resource of ``stack``; records each table's StreamArn in ``scope``."""
        for resource in stack.resources("AWS::S3::Bucket"):
            self._bucket(resource, scope)
        queues = list(stack.resources("AWS::SQS::Queue"))
        # A queue's dead-letter queue must exist before the queue that names it.
        for resource in sorted(queues, key=lambda r: "RedrivePolicy" in r.properties):
            self._clients["sqs"].create_queue(**queue_request(resource, scope))
        for resource in stack.resources("AWS::SNS::Topic"):
            attributes = {}
            if resource.properties.get("FifoTopic"):
                attributes["FifoTopic"] = "true"
            if resource.properties.get("ContentBasedDeduplication"):
                attributes["ContentBasedDeduplication"] = "true"
            self._clients["sns"].create_topic(
                Name=scope.attributes[resource.logical_id]["TopicName"], Attributes=attributes
            )
        for resource in stack.resources("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            self._table(resource, scope)
        for resource in stack.resources("AWS::Kinesis::Stream"):
            self._clients["kinesis"].create_stream(**stream_request(resource, scope))

    def _bucket(self, resource: Resource, scope: Scope) -> None:
        name = scope.attributes[resource.logical_id]["Ref"]
        s3 = self._clients["s3"]
        s3.create_bucket(Bucket=name)
        versioning = (resource.properties.get("VersioningConfiguration") or {}).get("Status")
        if versioning == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def _table(self, resource: Resource, scope: Scope) -> None:
        dynamodb = self._clients["dynamodb"]
        request, ttl = table_request(resource, scope)
        description = dynamodb.create_table(**request)["TableDescription"]
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=request["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        if description.get("LatestStreamArn"):
            attributes = dict(scope.attributes[resource.logical_id])
            attributes["StreamArn"] = description["LatestStreamArn"]
            scope.attributes[resource.logical_id] = attributes  # type: ignore[index]
