"""Private, encrypted, SSL-only S3 buckets with server access logs: what every construct here creates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import FeatureFlags
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings
from lambda_patterns.profiles import compliance_rules, hardened_key, resolve_profile
from lambda_patterns.props import as_mapping

_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def _acknowledge_replication(bucket: s3.Bucket, role: str) -> None:
    acknowledge_findings(
        bucket,
        RuleAcknowledgement(
            f"{path_of(bucket)} ({role}) is versioned and retained; replication needs a bucket in another "
            "Region and a replication role, which each organization chooses (bucket props' "
            "replication_rules)",
            nag=compliance_rules("S3BucketReplicationEnabled"),
        ),
    )


def access_log_bucket(scope: Construct, id: str, *, profile: str | None = None) -> s3.Bucket:
    """The bucket that receives other buckets' server access logs. S3 cannot log a log bucket into
    itself without a loop, so its own finding (AwsSolutions-S1, checkov's CKV_AWS_18) is acknowledged.
    S3 delivers server access logs only to a bucket encrypted with SSE-S3, so it keeps SSE-S3 in the
    hardened profile too (``profile``; default: the context's), and says so."""
    # Both profiles make this bucket alike; an unknown profile is still refused, as everywhere.
    resolve_profile(scope, profile)
    # With @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy, S3 delivers logs under a bucket policy and ACLs
    # can be disabled; an app without that flag grants delivery through ACLs, which need ObjectWriter.
    uses_policy = FeatureFlags.of(scope).is_enabled(_LOGS_USE_BUCKET_POLICY)
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.S3_MANAGED,  # SSE-KMS is not supported for access-log targets
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
        if uses_policy
        else s3.ObjectOwnership.OBJECT_WRITER,
        versioned=True,
        removal_policy=defaults.BUCKET_REMOVAL_POLICY,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=defaults.ACCESS_LOG_RETENTION,
                noncurrent_version_expiration=defaults.ACCESS_LOG_RETENTION,
            )
        ],
    )
    acknowledge_findings(
        bucket,
        RuleAcknowledgement(
            "This is the server access log bucket; logging it into itself would loop",
            nag=("AwsSolutions-S1", *compliance_rules("S3BucketLoggingEnabled")),
            checkov=("CKV_AWS_18",),
        ),
    )
    # Both profiles: a log target is SSE-S3 whatever the profile.
    acknowledge_findings(
        bucket,
        RuleAcknowledgement(
            f"{path_of(bucket)} receives S3 server access logs, which S3 delivers only to a bucket "
            "whose default encryption is SSE-S3 (SSE-KMS is not supported for log targets)",
            nag=compliance_rules("S3DefaultEncryptionKMS"),
        ),
    )
    _acknowledge_replication(bucket, "server access logs")
    return bucket


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    log_bucket: s3.IBucket,
    log_prefix: str,
    overrides: Mapping[str, Any] | None = None,
    profile: str | None = None,
    role: str = "data",
) -> s3.Bucket:
    """A bucket with safe defaults, ``overrides`` (any ``s3.Bucket`` prop) merged over them.
    ``profile="hardened"``: SSE-KMS with the stack's customer-managed key and an S3 Bucket Key (one KMS
    request per object batch instead of per object); default: the context's. ``role`` names what the
    bucket holds in acknowledgements."""
    key = hardened_key(scope, profile)
    encryption: dict[str, Any] = (
        {"encryption": s3.BucketEncryption.S3_MANAGED}
        if key is None
        else {"encryption": s3.BucketEncryption.KMS, "encryption_key": key, "bucket_key_enabled": True}
    )
    props: dict[str, Any] = {
        **encryption,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "versioned": True,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "server_access_logs_bucket": log_bucket,
        "server_access_logs_prefix": log_prefix,
        "removal_policy": defaults.BUCKET_REMOVAL_POLICY,
    }
    props.update(as_mapping(overrides, "bucket props"))
    bucket = s3.Bucket(scope, id, **props)
    if "replication_rules" not in props:
        _acknowledge_replication(bucket, role)
    if key is None and "encryption_key" not in props:
        acknowledge_findings(
            bucket,
            RuleAcknowledgement(
                f"{path_of(bucket)} ({role}) is encrypted at rest with SSE-S3 (S3-managed keys); a "
                "customer-managed KMS key is what the hardened profile adds",
                nag=compliance_rules("S3DefaultEncryptionKMS"),
            ),
        )
    return bucket
