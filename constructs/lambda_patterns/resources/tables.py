"""DynamoDB tables with the defaults every construct here uses: on-demand, encrypted with the AWS-managed
key (its use shows in CloudTrail), point-in-time recovery, retained on stack deletion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings
from lambda_patterns.profiles import compliance_rules, hardened_key
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
    profile: str | None = None,
) -> dynamodb.TableV2 | dynamodb.Table:
    """A table keyed by string attributes, ``overrides`` (any ``TableV2`` prop) merged over the defaults.

    ``profile="hardened"`` encrypts it with the stack's customer-managed key (default: the context's
    profile). A ``TableV2`` with a customer-managed key cannot be synthesized in a Region-agnostic stack
    (CDK renders the key per replica Region), so there the hardened table is a ``dynamodb.Table`` with the
    same keys, on-demand billing, point-in-time recovery, stream, TTL and removal policy, and ``overrides``
    are ``dynamodb.Table`` props.
    """
    key = hardened_key(scope, profile)
    props: dict[str, Any] = {
        "partition_key": string_key(partition_key),
        "sort_key": string_key(sort_key) if sort_key else None,
        "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        "time_to_live_attribute": ttl_attribute,
        "removal_policy": defaults.TABLE_REMOVAL_POLICY,
    }
    if key is None or not Token.is_unresolved(Stack.of(scope).region):
        encryption = (
            dynamodb.TableEncryptionV2.aws_managed_key()
            if key is None
            else dynamodb.TableEncryptionV2.customer_managed_key(key)
        )
        props.update(billing=dynamodb.Billing.on_demand(), encryption=encryption, dynamo_stream=stream)
        props.update(as_mapping(overrides, "table props"))
        table: dynamodb.TableV2 | dynamodb.Table = dynamodb.TableV2(scope, id, **props)
    else:
        props.update(
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            stream=stream,
        )
        props.update(as_mapping(overrides, "table props"))
        table = dynamodb.Table(scope, id, **props)
    if key is not None:
        acknowledge_findings(
            table,
            RuleAcknowledgement(
                f"Table {path_of(table)} has point-in-time recovery (restore to any second of the last 35 "
                "days); an AWS Backup plan adds a vault and retention rules each organization sets itself",
                nag=compliance_rules("DynamoDBInBackupPlan"),
            ),
        )
    return table
