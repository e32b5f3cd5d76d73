"""ThumbnailPipeline and FileProcessingStack: snapshot, properties that matter, nag, cfn-lint, prop errors."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from syrupy.extensions.json import JSONSnapshotExtension

from lambda_patterns import ConfigurationError, ThumbnailPipeline
from stacks.file_processing_stack import FileProcessingStack
from synth_helpers import cfn_lint_errors, new_app, normalized, synth_with_nag


@pytest.fixture(scope="module")
def synthesized():
    app = new_app()
    FileProcessingStack(app, "FileProcessingStack")
    assembly, findings = synth_with_nag(app)
    return (assembly.get_stack_by_name("FileProcessingStack").template if assembly else None), findings


def test_file_processing_stack_matches_its_snapshot(synthesized, snapshot):
    assert normalized(synthesized[0]) == snapshot.use_extension(JSONSnapshotExtension)


def test_file_processing_stack_passes_cdk_nag(synthesized):
    assert synthesized[1] == []


def test_file_processing_stack_passes_cfn_lint(synthesized):
    assert cfn_lint_errors(synthesized[0]) == []


def test_both_buckets_are_encrypted_private_ssl_only_and_access_logged(synthesized):
    template = Template.from_json(synthesized[0])

    buckets = template.find_resources(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()})
            }
        },
    )
    assert len(buckets) == 2
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    ssl_policies = template.find_resources(
        "AWS::S3::BucketPolicy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                }
            }
        },
    )
    assert len(ssl_policies) == 3


def test_function_gets_thumbnail_settings_and_arm64_python(synthesized):
    Template.from_json(synthesized[0]).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Architectures": ["arm64"],
            "Runtime": "python3.14",
            "MemorySize": 1024,
            "Timeout": 60,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "SIZES": "128,256,1024",
                        "DEST_PREFIX": "thumbnails/",
                        "OUTPUT_FORMAT": "auto",
                        "QUALITY": "85",
                        "INPUT_FORMATS": "jpeg,png,gif,webp,avif,heif,tiff,bmp",
                    }
                )
            },
        },
    )


def test_function_reads_only_uploads_and_writes_only_thumbnails(synthesized):
    template = Template.from_json(synthesized[0])
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if {"s3:GetObject", "s3:PutObject"}
        & set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    ]

    suffixes = sorted(statement["Resource"]["Fn::Join"][1][-1] for statement in statements)
    assert suffixes == ["/thumbnails/*", "/uploads/*"]


def test_function_may_list_the_source_bucket_so_a_deleted_upload_is_not_found_rather_than_forbidden(
    synthesized,
):
    # The handler rejects a NoSuchKey (the upload was deleted) and retries anything else; S3 answers
    # NoSuchKey only to a caller with s3:ListBucket on the key, AccessDenied otherwise. S3 evaluates it with
    # the key as s3:prefix, so the grant is limited to the source prefix.
    template = Template.from_json(synthesized[0])
    (source_id,) = [
        logical_id
        for logical_id, bucket in template.find_resources("AWS::S3::Bucket").items()
        if bucket["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix") == "source/"
    ]

    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "s3:ListBucket",
                            "Condition": {"StringLike": {"s3:prefix": ["uploads/*"]}},
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [source_id, "Arn"]},
                        }
                    ]
                )
            }
        },
    )


def test_upload_notification_watches_the_uploads_prefix(synthesized):
    Template.from_json(synthesized[0]).has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    Match.object_like(
                        {"Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}
                    )
                ]
            }
        },
    )


def test_one_bucket_with_overlapping_prefixes_is_refused_at_synth():
    stack = cdk.Stack(new_app(), "S")
    bucket = s3.Bucket(stack, "Photos")

    with pytest.raises(ConfigurationError, match="which triggers it: every write would invoke it again"):
        ThumbnailPipeline(
            stack,
            "Thumbs",
            existing_source_bucket_obj=bucket,
            existing_destination_bucket_obj=bucket,
            destination_prefix="thumbnails/",
        )


def test_one_bucket_with_disjoint_prefixes_is_accepted():
    stack = cdk.Stack(new_app(), "S")
    bucket = s3.Bucket(stack, "Photos")

    pipeline = ThumbnailPipeline(
        stack,
        "Thumbs",
        existing_source_bucket_obj=bucket,
        existing_destination_bucket_obj=bucket,
        source_prefix="uploads/",
        destination_prefix="thumbnails/",
    )

    assert pipeline.source_bucket is pipeline.destination_bucket


def test_existing_source_bucket_with_source_props_is_refused():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        ThumbnailPipeline(
            stack, "Thumbs", existing_source_bucket_obj=s3.Bucket(stack, "B"), source_bucket_props={}
        )

    assert str(error.value) == (
        "ThumbnailPipeline S/Thumbs: pass either existing_source_bucket_obj or source_bucket_props, not both "
        "(source_bucket_props configures a resource this construct creates; existing_source_bucket_obj replaces it)"
    )


@pytest.mark.parametrize(
    "props,message,code",
    [
        ({"sizes": []}, "sizes must name at least one thumbnail size", "Sizes"),
        ({"sizes": [128, 0]}, r"sizes must be whole pixels from 1 to 10000, got \[0\]", "Sizes"),
        ({"quality": 101}, "quality must be between 1 and 100, got 101", "Quality"),
        ({"output_format": "gif"}, "output_format must be one of", "OutputFormat"),
        ({"input_formats": ["jpeg", "psd"]}, "input_formats cannot include 'psd': Photoshop", "InputFormats"),
        ({"max_bytes": 0}, "max_pixels and max_bytes must be positive", "InputCaps"),
        (
            {"destination_prefix": "thumbs"},
            "destination_prefix must be a folder ending in '/'",
            "DestinationPrefix",
        ),
    ],
)
def test_bad_thumbnail_props_are_refused_at_synth(props, message, code):
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError, match=message) as error:
        ThumbnailPipeline(stack, "Thumbs", **props)

    assert error.value.code == f"LambdaPatterns.Thumbnail.{code}"


def test_lifecycle_rules_can_be_added_to_the_source_bucket():
    stack = cdk.Stack(new_app(), "S")
    ThumbnailPipeline(
        stack,
        "Thumbs",
        source_bucket_props={"lifecycle_rules": [s3.LifecycleRule(expiration=cdk.Duration.days(30))]},
    )

    Template.from_stack(stack).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": 30, "Status": "Enabled"})]
            }
        },
    )


def test_pipeline_synthesizes_in_an_app_without_this_repositorys_feature_flags():
    # A user's app may not set @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy; the log bucket then
    # receives logs through ACLs, which need ObjectWriter ownership.
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "S")
    ThumbnailPipeline(stack, "Thumbs")

    Template.from_stack(stack).has_resource_properties(
        "AWS::S3::Bucket", {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}
    )


def test_input_formats_reach_the_function_once_each_in_the_order_given():
    stack = cdk.Stack(new_app(), "S")
    ThumbnailPipeline(stack, "Thumbs", input_formats=["heif", "jpeg", "heif"])

    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"INPUT_FORMATS": "heif,jpeg"})}},
    )


def test_function_props_cannot_set_what_the_pipeline_sets_itself():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        ThumbnailPipeline(stack, "Thumbs", function_props={"environment": {"A": "1"}, "memory_size": 2048})

    assert str(error.value) == (
        "ThumbnailPipeline S/Thumbs: function_props cannot set environment, memory_size: this construct sets "
        "them itself (use its own props, e.g. memory_size, where it has them)"
    )
