"""Steps 1 and 2: FunctionPolicy and FunctionRole."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.permissions import allow, consume_stream, read_objects, read_table, write_objects
from lambda_patterns.policy import FunctionPolicy
from lambda_patterns.role import FunctionRole
from synth_helpers import new_app, synth_with_nag


def _bucket(stack):
    logs = s3.Bucket(stack, "Logs", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    cdk.Validations.of(logs).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="The test's log bucket")
    )
    return s3.Bucket(
        stack,
        "Bucket",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=logs,
    )


def test_object_read_is_scoped_to_the_prefix():
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)
    FunctionRole(
        stack, "Role", policy=FunctionPolicy(stack, "Policy", permissions=[read_objects(bucket, "in/")])
    )

    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "s3:GetObject",
                        "Effect": "Allow",
                        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [Match.any_value(), "Arn"]}, "/in/*"]]},
                    }
                ]
            }
        },
    )


def test_prefix_wildcards_are_refused():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError, match=r"S3 key prefix 'in/\*' must be literal"):
        read_objects(_bucket(stack), "in/*")


def test_wildcard_without_reason_is_refused():
    with pytest.raises(ConfigurationError, match=r"allow\(\): \* contains a wildcard; pass reason="):
        allow(["s3:ListAllMyBuckets"], ["*"])


def test_role_has_no_managed_policy_and_trusts_only_lambda():
    stack = cdk.Stack(new_app(), "S")
    FunctionRole(stack, "Role")

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [{"Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]
            },
            "ManagedPolicyArns": Match.absent(),
        },
    )


def test_role_takes_a_permissions_boundary():
    stack = cdk.Stack(new_app(), "S")
    boundary = cdk.aws_iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", "team-boundary")
    FunctionRole(stack, "Role", permissions_boundary=boundary)

    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Role",
        {"PermissionsBoundary": {"Fn::Join": ["", Match.array_with([":policy/team-boundary"])]}},
    )


def test_intent_wildcards_are_acknowledged_with_their_reason_and_nag_passes():
    app = new_app()
    stack = cdk.Stack(app, "S")
    bucket = _bucket(stack)
    table = cdk.aws_dynamodb.TableV2(
        stack,
        "Table",
        partition_key=cdk.aws_dynamodb.Attribute(name="pk", type=cdk.aws_dynamodb.AttributeType.STRING),
        point_in_time_recovery_specification=cdk.aws_dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    policy = FunctionPolicy(
        stack,
        "Policy",
        permissions=[
            read_objects(bucket, "in/"),
            write_objects(bucket, "out/"),
            read_table(table),
            allow(["ec2:DescribeRegions"], ["*"], reason="DescribeRegions has no resource-level permissions"),
        ],
    )
    FunctionRole(stack, "Role", policy=policy)

    _, findings = synth_with_nag(app)

    assert findings == []


def test_unacknowledged_wildcard_is_a_nag_finding():
    # Proves the nag test above can fail: a raw statement with a wildcard is reported.
    app = new_app()
    stack = cdk.Stack(app, "S")
    role = FunctionRole(stack, "Role")
    role.role.add_to_policy(cdk.aws_iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))

    _, findings = synth_with_nag(app)

    assert [f["rule"] for f in findings] == ["AwsSolutions-IAM5[Resource::*]"]


def test_consume_stream_reads_one_kinesis_stream_only():
    stack = cdk.Stack(new_app(), "S")
    stream = cdk.aws_kinesis.Stream(stack, "Clicks")

    (permission,) = consume_stream(stream)

    assert "kinesis:GetRecords" in permission.actions and "kinesis:PutRecord" not in permission.actions
    assert permission.resources == (stream.stream_arn,)


def test_consume_stream_of_a_table_reads_its_stream_and_acknowledges_list_streams():
    app = new_app()
    stack = cdk.Stack(app, "S")
    table = cdk.aws_dynamodb.TableV2(
        stack,
        "Table",
        partition_key=cdk.aws_dynamodb.Attribute(name="pk", type=cdk.aws_dynamodb.AttributeType.STRING),
        dynamo_stream=cdk.aws_dynamodb.StreamViewType.NEW_IMAGE,
        point_in_time_recovery_specification=cdk.aws_dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    FunctionRole(stack, "Role", policy=FunctionPolicy(stack, "Policy", permissions=[consume_stream(table)]))

    _, findings = synth_with_nag(app)

    assert findings == []
