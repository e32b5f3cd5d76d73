"""Encrypted, SSL-only SNS topics: what the constructs here create for the events they receive.

(Alarm topics differ: CloudWatch cannot use the AWS-managed SNS key, see ``alarms.alarm_topic``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_patterns.jsii_reads import node_of
from lambda_patterns.profiles import hardened_key
from lambda_patterns.props import as_mapping

_SNS_KEY_ID = "SnsKey"
_SNS_KEY_ALIAS = "alias/aws/sns"


def aws_managed_sns_key(scope: Construct) -> kms.IAlias:
    """The AWS-managed SNS key ``alias/aws/sns``: no key policy to maintain, no monthly key charge; one
    reference per scope, shared by every topic in it."""
    existing = node_of(scope).try_find_child(_SNS_KEY_ID)
    return existing or kms.Alias.from_alias_name(scope, _SNS_KEY_ID, _SNS_KEY_ALIAS)


def secure_topic(
    scope: Construct, id: str, *, overrides: Mapping[str, Any] | None = None, profile: str | None = None
) -> sns.Topic:
    """A topic encrypted with the AWS-managed SNS key (``profile="hardened"``: the stack's customer-managed
    key) that refuses requests without TLS, ``overrides`` (any ``sns.Topic`` prop) merged over those
    defaults. ``profile``: default: the context's."""
    key = hardened_key(scope, profile)
    props: dict[str, Any] = {"master_key": key or aws_managed_sns_key(scope), "enforce_ssl": True}
    props.update(as_mapping(overrides, "topic_props"))
    return sns.Topic(scope, id, **props)
