"""Resources: the buckets, tables, queues, topics and streams of a stack, created on moto's server by
``provision.Provisioner`` before any function or trigger is wired."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambda_patterns.local.assembly import Stack
from lambda_patterns.local.intrinsics import Scope
from lambda_patterns.local.provision import Provisioner
from lambda_patterns.local.registry import register

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

#: The services ``Provisioner`` creates resources in.
SERVICES = ("s3", "sqs", "sns", "dynamodb", "kinesis")


@register(
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Kinesis::Stream",
    order=20,
)
def wire_resources(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """Creates the stack's resources; a table's StreamArn is known from here on."""
    Provisioner({name: app.client(name) for name in SERVICES}).create(stack, scope)
