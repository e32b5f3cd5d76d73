"""The profiles: ``standard`` (the default) and ``hardened``, what HIPAA Security, NIST 800-53 R5 and
PCI DSS 3.2.1 ask for on top (a customer-managed key per stack, reserved concurrency, functions in a VPC).

The profile is resolved here and nowhere else: the construct's ``profile`` prop when given, else the
context ``lambda-patterns:profile`` (``cdk synth -c lambda-patterns:profile=hardened``), else ``standard``.
A construct given the prop pins it on its own subtree (:func:`pin_profile`), so the resources and the
function it makes follow it without each being told.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from lambda_patterns.checks.profile import check_profile
from lambda_patterns.jsii_reads import node_of, path_of

PROFILE_CONTEXT = "lambda-patterns:profile"
STANDARD = "standard"
HARDENED = "hardened"
PROFILES = (STANDARD, HARDENED)


def resolve_profile(scope: IConstruct, profile: str | None = None) -> str:
    """The profile that applies at ``scope``: ``profile`` when given, else the context
    ``lambda-patterns:profile`` (set on the app or pinned by an enclosing construct), else ``standard``.
    Raises ``ConfigurationError`` (``LambdaPatterns.Profile.Unknown``) for any other value."""
    value = profile if profile is not None else node_of(scope).try_get_context(PROFILE_CONTEXT)
    value = STANDARD if value is None else value
    if value not in PROFILES:
        # The path only for the error: reading it costs jsii round trips on every resource made.
        check_profile(path_of(scope) or "app", value, PROFILES)
    return value


def pin_profile(construct: Construct, profile: str | None) -> str:
    """Resolve the profile of ``construct`` (call it before the construct has children) and, when its prop
    chose one, make it the context of its subtree, where the resources it creates resolve theirs."""
    resolved = resolve_profile(construct, profile)
    if profile is not None:
        node_of(construct).set_context(PROFILE_CONTEXT, resolved)
    return resolved


def is_hardened(scope: IConstruct, profile: str | None = None) -> bool:
    """Whether the hardened profile applies at ``scope`` (see :func:`resolve_profile`)."""
    return resolve_profile(scope, profile) == HARDENED


#: The compliance packs the hardened profile answers, as cdk-nag prefixes their rule ids.
_HIPAA, _NIST, _PCI = "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"
#: The packs that hold each rule this library acknowledges (from cdk-nag 3's pack definitions): a rule
#: is acknowledged only in the packs that raise it.
_PACKS_OF: Mapping[str, tuple[str, ...]] = {
    "LambdaDLQ": (_HIPAA, _NIST),
    "CloudWatchLogGroupEncrypted": (_HIPAA, _NIST, _PCI),
    "LambdaConcurrency": (_HIPAA, _NIST),
    "LambdaInsideVPC": (_HIPAA, _NIST, _PCI),
    "IAMNoInlinePolicy": (_HIPAA, _NIST, _PCI),
    "S3BucketLoggingEnabled": (_HIPAA, _NIST, _PCI),
    "S3BucketReplicationEnabled": (_HIPAA, _NIST, _PCI),
    "S3DefaultEncryptionKMS": (_HIPAA, _NIST, _PCI),
    "APIGWCacheEnabledAndEncrypted": (_HIPAA, _NIST, _PCI),
    "APIGWSSLEnabled": (_HIPAA, _NIST, _PCI),
    "APIGWAssociatedWithWAF": (_NIST, _PCI),
    "DynamoDBInBackupPlan": (_HIPAA, _NIST),
}


def compliance_rules(*rules: str) -> tuple[str, ...]:
    """The cdk-nag ids of ``rules`` in the compliance packs that hold them. Both profiles acknowledge them,
    each with the reason true for it: a regulated team runs the packs on a standard app too, and must see
    why each finding is accepted there."""
    return tuple(f"{pack}-{rule}" for rule in rules for pack in _PACKS_OF[rule])


_KEY_ID = "LambdaPatternsKey"


class StackKey(kms.Key):
    """The hardened profile's customer-managed key of one stack, rotated yearly. Its policy keeps CDK's
    account statement (IAM policies of the account decide, so a function role's intents grant their own
    use) and adds a statement per service that uses the key on its own behalf, when the first resource
    needing it is made."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(
            scope,
            id,
            enable_key_rotation=True,
            description="lambda-patterns hardened profile: encrypts this stack's queues, topics, log groups, "
            "tables, streams, buckets and function environments",
        )
        self._services: set[str] = set()

    def allow_service(
        self, sid: str, principal: str, actions: list[str], conditions: Mapping[str, Any]
    ) -> None:
        """Let the service ``principal`` use the key for ``actions`` under ``conditions``, once per ``sid``."""
        if sid in self._services:
            return
        self._services.add(sid)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(principal)],
                actions=actions,
                resources=["*"],
                conditions=dict(conditions),
            )
        )

    def allow_log_groups(self) -> None:
        """CloudWatch Logs encrypts and decrypts log events of this account's and Region's log groups only
        (the encryption context names the log group; its name is not known before deployment)."""
        self.allow_service(
            "AllowCloudWatchLogsOfThisAccount",
            f"logs.{Aws.REGION}.amazonaws.com",
            ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )

    def allow_cloudwatch_alarms(self) -> None:
        """CloudWatch alarms of this account publish to a topic encrypted with the key."""
        self.allow_service(
            "AllowCloudWatchAlarmsOfThisAccount",
            "cloudwatch.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        )

    def allow_delivery_from(self, service: str) -> None:
        """``service`` (``sns``, ``events``) delivers messages of this account's and Region's topics or
        rules to a queue encrypted with the key: a subscription or a dead-letter queue. (The source's own
        ARN would make the key depend on a topic that the key encrypts: a cycle.)"""
        self.allow_service(
            f"Allow{service.capitalize()}DeliveryOfThisAccount",
            f"{service}.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            {
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
                },
            },
        )


def stack_key(scope: IConstruct) -> StackKey:
    """The stack's ``StackKey``, created by its first user."""
    stack = Stack.of(scope)
    existing = node_of(stack).try_find_child(_KEY_ID)
    return existing if existing is not None else StackKey(stack, _KEY_ID)


def hardened_key(scope: IConstruct, profile: str | None = None) -> StackKey | None:
    """The stack's key in the hardened profile, else ``None`` (the standard profile's service keys)."""
    return stack_key(scope) if is_hardened(scope, profile) else None
