"""Kinesis data streams with the defaults every construct here uses: on demand (no shards to size),
encrypted with the AWS-managed Kinesis key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.jsii_reads import path_of, seconds_of
from lambda_patterns.nag import acknowledge_rule
from lambda_patterns.profiles import hardened_key
from lambda_patterns.props import as_mapping


def secure_stream(
    scope: Construct, id: str, *, overrides: Mapping[str, Any] | None = None, profile: str | None = None
) -> kinesis.Stream:
    """A stream with safe defaults, ``overrides`` (any ``kinesis.Stream`` prop, or a ``kinesis.StreamProps``)
    merged over them. Giving ``shard_count`` without ``stream_mode`` makes the stream provisioned: a shard
    count means nothing to an on-demand stream, and CDK refuses the pair. ``profile="hardened"`` encrypts
    it with the stack's customer-managed key; default: the context's."""
    overrides = as_mapping(overrides, "stream_props")
    key = hardened_key(scope, profile)
    props: dict[str, Any] = {
        "encryption": kinesis.StreamEncryption.MANAGED if key is None else kinesis.StreamEncryption.KMS,
        **({} if key is None else {"encryption_key": key}),
        "stream_mode": kinesis.StreamMode.PROVISIONED
        if "shard_count" in overrides
        else kinesis.StreamMode.ON_DEMAND,
    }
    props.update(overrides)
    stream = kinesis.Stream(scope, id, **props)
    if key is not None and props.get("encryption_key") is key:
        acknowledge_rule(
            stream,
            "AwsSolutions-KDS3",
            f"{path_of(stream)} is encrypted with the stack's customer-managed key (hardened profile), "
            "whose rotation and policy the stack controls, instead of aws/kinesis",
        )
    return stream


def stream_retention_period(overrides: Mapping[str, Any] | None = None) -> Duration:
    """How long a stream made by :func:`secure_stream` with ``overrides`` keeps its records: the
    ``retention_period`` they set, else Kinesis' default (24 hours)."""
    return as_mapping(overrides).get("retention_period") or defaults.KINESIS_DEFAULT_RETENTION


def mark_ttl_seconds(retention: Duration) -> int:
    """How long a stream consumer keeps an idempotency mark: while its stream (keeping records for
    ``retention``) can deliver the records it covers again, plus a margin so a mark never expires under a
    late retry."""
    return int(seconds_of(retention) + seconds_of(defaults.MARK_TTL_MARGIN))
