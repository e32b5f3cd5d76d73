"""Deterministic local names and ARNs for template resources, derived from stack name and logical id, and
the small name helpers the runner's families share (function ARNs, API Gateway header parameters).

CloudFormation appends a random suffix to generated names; locally the same app must get the same names
on every run, so scripts and tests can address them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from lambda_patterns.local.intrinsics import ACCOUNT_ID, REGION

#: Resource type -> (property holding an explicit name, maximum length, lowercase only).
NAME_RULES: Mapping[str, tuple[str, int, bool]] = {
    "AWS::S3::Bucket": ("BucketName", 63, True),
    "AWS::DynamoDB::Table": ("TableName", 255, False),
    "AWS::DynamoDB::GlobalTable": ("TableName", 255, False),
    "AWS::SQS::Queue": ("QueueName", 80, False),
    "AWS::SNS::Topic": ("TopicName", 256, False),
    "AWS::Kinesis::Stream": ("Name", 128, False),
    "AWS::Lambda::Function": ("FunctionName", 64, False),
    "AWS::Events::Rule": ("Name", 64, False),
    "AWS::Logs::LogGroup": ("LogGroupName", 512, False),
    "AWS::IAM::Role": ("RoleName", 64, False),
}


def local_name(stack: str, logical_id: str, resource_type: str, properties: Mapping[str, Any]) -> str:
    """The resource's explicit name if the template gives one as a plain string, else
    ``<stack>-<logicalId>`` (lowercase for buckets), shortened with a hash suffix to the service's limit.
    FIFO queues and topics keep their required ``.fifo`` suffix."""
    name_property, limit, lowercase = NAME_RULES.get(resource_type, ("Name", 64, False))
    explicit = properties.get(name_property)
    if isinstance(explicit, str):
        return explicit
    fifo = bool(properties.get("FifoQueue") or properties.get("FifoTopic"))
    suffix = ".fifo" if fifo else ""
    name = f"{stack}-{logical_id}"
    if lowercase:
        name = re.sub(r"[^a-z0-9.-]", "-", name.lower())
    room = limit - len(suffix)
    if len(name) > room:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: room - 9].rstrip('-.')}-{digest}"
    return name + suffix


def arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    """An ARN in the local account and Region."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def queue_url(endpoint: str, name: str, account: str = ACCOUNT_ID) -> str:
    """The URL moto's server gives a queue (``<endpoint>/<account>/<name>``)."""
    return f"{endpoint.rstrip('/')}/{account}/{name}"


def service_of(resource_arn: str) -> str:
    """The service part of an ARN (``sqs``, ``dynamodb``, ``kinesis``...), empty for something else."""
    parts = resource_arn.split(":")
    return parts[2] if len(parts) > 5 and parts[0] == "arn" else ""


def unqualified(function_arn: str) -> str:
    """A Lambda function ARN without its alias or version qualifier."""
    return ":".join(function_arn.split(":")[:7])


def lambda_arn(reference: str) -> str:
    """The unqualified ARN of a function given by name, ``name:qualifier`` (how CDK names an alias in an
    event source mapping) or (qualified) ARN."""
    return unqualified(reference if reference.startswith("arn:") else arn("lambda", f"function:{reference}"))


def last_part(resource_arn: str) -> str:
    """What follows an ARN's last colon: the name of a queue or topic."""
    return resource_arn.rsplit(":", 1)[-1]


def internal_queue_name(purpose: str, *parts: str) -> str:
    """Name of a queue the runner creates to receive a service's deliveries for a function."""
    return local_name("lp-local", f"{purpose}-{'-'.join(parts)}", "AWS::SQS::Queue", {})


def static_headers(
    parameters: Mapping[str, Any] | None, prefix: str, *, quoted_only: bool = True
) -> dict[str, str]:
    """Header name -> value of API Gateway's ``<prefix><Name>`` response parameters (``prefix`` such as
    ``method.response.header.``) that are strings, their quotes removed; with ``quoted_only`` only the
    static values (``'text'``), not mappings from the integration's response."""
    return {
        key.rsplit(".", 1)[-1]: value.strip("'")
        for key, value in (parameters or {}).items()
        if key.startswith(prefix) and isinstance(value, str) and (value.startswith("'") or not quoted_only)
    }
