"""DynamoDB tables with the defaults every construct here uses: on-demand, encrypted with the AWS-managed
key (its use shows in CloudTrail), point-in-time recovery, retained on stack deletion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.props import as_mapping


def string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def secure_table(
    scope: Construct,
    id: str,
    *,
    partition_key: str,
    sort_key: str | None = None,
    stream: dynamodb.StreamViewType | None = None,
    ttl_attribute: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dynamodb.TableV2:
    """A table keyed by string attributes, ``overrides`` (any ``TableV2`` prop) merged over the defaults."""
    props: dict[str, Any] = {
        "partition_key": string_key(partition_key),
        "sort_key": string_key(sort_key) if sort_key else None,
        "billing": dynamodb.Billing.on_demand(),
        "encryption": dynamodb.TableEncryptionV2.aws_managed_key(),
        "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        "dynamo_stream": stream,
        "time_to_live_attribute": ttl_attribute,
        "removal_policy": defaults.TABLE_REMOVAL_POLICY,
    }
    props.update(as_mapping(overrides, "table props"))
    return dynamodb.TableV2(scope, id, **props)
