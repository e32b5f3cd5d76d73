"""Props as aws-cdk-lib's users write them: the matching props struct or a mapping, read the same way, and
never merged into an invalid combination."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from lambda_patterns import ClickstreamAnalytics, ConfigurationError, ThumbnailPipeline
from lambda_patterns.props import as_mapping
from synth_helpers import new_app


def _template(build) -> Template:
    stack = cdk.Stack(new_app(), "S")
    build(stack)
    return Template.from_stack(stack)


@pytest.mark.parametrize(
    "stream_props",
    [kinesis.StreamProps(shard_count=2), {"shard_count": 2}],
    ids=["struct", "mapping"],
)
def test_a_shard_count_makes_the_click_stream_provisioned(stream_props):
    template = _template(lambda stack: ClickstreamAnalytics(stack, "C", stream_props=stream_props))

    template.has_resource_properties(
        "AWS::Kinesis::Stream", {"ShardCount": 2, "StreamModeDetails": {"StreamMode": "PROVISIONED"}}
    )


def test_a_bucket_props_struct_overrides_only_what_it_sets():
    template = _template(
        lambda stack: ThumbnailPipeline(
            stack, "T", destination_bucket_props=s3.BucketProps(object_lock_enabled=True)
        )
    )

    buckets = template.find_resources("AWS::S3::Bucket", {"Properties": {"ObjectLockEnabled": True}})
    (bucket,) = buckets.values()
    # The library's defaults the struct did not name are still there.
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "BucketEncryption" in bucket["Properties"]


def test_as_mapping_reads_a_struct_by_its_keyword_names():
    assert as_mapping(kinesis.StreamProps(shard_count=3, stream_name="clicks")) == {
        "shard_count": 3,
        "stream_name": "clicks",
    }
    assert as_mapping(None) == {}
    assert as_mapping({"a": 1}) == {"a": 1}


def test_props_that_are_neither_a_mapping_nor_a_struct_are_a_clear_error():
    with pytest.raises(ConfigurationError) as raised:
        as_mapping(["shard_count", 2], "stream_props")

    assert raised.value.code == "LambdaPatterns.Props.Type"
    assert str(raised.value) == (
        "stream_props must be a mapping of keyword names or an aws-cdk-lib props struct, got list"
    )
