"""LambdaService: the five steps from one set of props, each replaceable."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from lambda_patterns import ConfigurationError, FunctionRole, LambdaService, S3Trigger, SqsTrigger
from lambda_patterns.permissions import read_objects, write_objects
from synth_helpers import FIXTURES, new_app


def _bucket(stack):
    return s3.Bucket(stack, "Bucket", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)


def test_service_in_ten_lines_builds_policy_role_package_function_and_trigger():
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)

    service = LambdaService(
        stack,
        "Resize",
        entry=FIXTURES / "echo",
        permissions=[read_objects(bucket, "in/"), write_objects(bucket, "out/")],
        memory_size=1024,
    )
    service.add_trigger(S3Trigger, "OnUpload", bucket=bucket, prefix="in/")

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function", {"MemorySize": 1024, "Architectures": ["arm64"]}
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "s3:GetObject"})])}},
    )
    template.resource_count_is("Custom::S3BucketNotifications", 1)
    assert service.package is not None and service.function.function is not None


def test_service_takes_existing_code_instead_of_a_package():
    stack = cdk.Stack(new_app(), "S")

    service = LambdaService(stack, "Svc", existing_code=lambda_.Code.from_asset(str(FIXTURES / "echo")))

    assert service.package is None


def test_service_refuses_existing_code_with_package_props():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        LambdaService(
            stack,
            "Svc",
            existing_code=lambda_.Code.from_asset(str(FIXTURES / "echo")),
            package_props={"use_docker": True},
        )

    assert error.value.code == "LambdaPatterns.Props.Exclusive"
    assert str(error.value) == (
        "LambdaService S/Svc: pass either existing_code or package_props, not both (package_props configures a "
        "resource this construct creates; existing_code replaces it)"
    )


def test_service_uses_an_existing_role_and_grants_its_permissions_there():
    stack = cdk.Stack(new_app(), "S")
    role = FunctionRole(stack, "SharedRole")

    service = LambdaService(stack, "Svc", entry=FIXTURES / "echo", existing_role=role)

    assert service.role is role
    Template.from_stack(stack).resource_count_is("AWS::IAM::Role", 1)


def test_service_trigger_is_wired_to_its_function():
    stack = cdk.Stack(new_app(), "S")
    service = LambdaService(stack, "Svc", entry=FIXTURES / "echo")

    trigger = service.add_trigger(SqsTrigger, "Jobs", batch_size=5)

    assert service.triggers == (trigger,)
    Template.from_stack(stack).has_resource_properties("AWS::Lambda::EventSourceMapping", {"BatchSize": 5})
