"""Private, encrypted, SSL-only S3 buckets with server access logs: what every construct here creates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import FeatureFlags
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.nag import acknowledge_rule
from lambda_patterns.props import as_mapping

_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def access_log_bucket(scope: Construct, id: str) -> s3.Bucket:
    """The bucket that receives other buckets' server access logs. S3 cannot log a log bucket into
    itself without a loop, so its own finding (AwsSolutions-S1, checkov's CKV_AWS_18) is acknowledged."""
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
    acknowledge_rule(
        bucket,
        "AwsSolutions-S1",
        "This is the server access log bucket; logging it into itself would loop",
        checkov=("CKV_AWS_18",),
    )
    return bucket


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    log_bucket: s3.IBucket,
    log_prefix: str,
    overrides: Mapping[str, Any] | None = None,
) -> s3.Bucket:
    """A bucket with safe defaults, ``overrides`` (any ``s3.Bucket`` prop) merged over them."""
    props: dict[str, Any] = {
        "encryption": s3.BucketEncryption.S3_MANAGED,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "versioned": True,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "server_access_logs_bucket": log_bucket,
        "server_access_logs_prefix": log_prefix,
        "removal_policy": defaults.BUCKET_REMOVAL_POLICY,
    }
    props.update(as_mapping(overrides, "bucket props"))
    return s3.Bucket(scope, id, **props)
