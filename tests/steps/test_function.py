"""Step 4: ServerlessFunction's defaults and its synth-time validation."""

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.function import ServerlessFunction
from synth_helpers import cfn_lint_errors, echo_code, new_app, synth_with_nag


def _template(**props):
    stack = cdk.Stack(new_app(), "S")
    ServerlessFunction(stack, "Fn", code=echo_code(), **props)
    return Template.from_stack(stack)


def test_function_defaults_to_arm64_latest_python_and_active_tracing():
    _template().has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Architectures": ["arm64"],
            "Runtime": "python3.14",
            "TracingConfig": {"Mode": "Active"},
            "MemorySize": 512,
            "Timeout": 30,
            "RecursiveLoop": "Terminate",
        },
    )


def test_function_logs_to_its_own_log_group_with_retention():
    template = _template()

    template.has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 30}, "DeletionPolicy": "Delete"}
    )
    (log_group_id,) = template.find_resources("AWS::Logs::LogGroup")
    template.has_resource_properties(
        "AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": log_group_id}}}
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
                    }
                ]
            }
        },
    )


def test_function_role_has_no_managed_policy():
    _template().has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})


def test_failed_async_events_go_to_an_encrypted_ssl_only_queue():
    template = _template()

    (queue_id,) = template.find_resources("AWS::SQS::Queue")
    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                    )
                ]
            }
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}},
            "MaximumRetryAttempts": 2,
        },
    )


def test_dead_letter_queue_mode_sets_the_function_dead_letter_config():
    template = _template(async_failure="dead_letter_queue")

    template.has_resource_properties(
        "AWS::Lambda::Function", {"DeadLetterConfig": {"TargetArn": Match.any_value()}}
    )
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"DestinationConfig": Match.absent()})


@pytest.mark.parametrize("seconds", [0, 901])
def test_timeout_outside_lambda_limits_is_an_error(seconds):
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        ServerlessFunction(stack, "Fn", code=echo_code(), timeout=Duration.seconds(seconds))

    assert error.value.code == "LambdaPatterns.Function.Timeout"
    assert str(error.value) == (
        f"ServerlessFunction S/Fn: timeout must be between 1 and 900 seconds (Lambda's limit), got {seconds} seconds"
    )


@pytest.mark.parametrize("memory", [127, 10_241])
def test_memory_outside_lambda_limits_is_an_error(memory):
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        ServerlessFunction(stack, "Fn", code=echo_code(), memory_size=memory)

    assert error.value.code == "LambdaPatterns.Function.Memory"
    assert str(error.value) == (
        f"ServerlessFunction S/Fn: memory_size must be between 128 and 10240 MB (Lambda's limit), got {memory} MB"
    )


@pytest.mark.parametrize("memory,seconds", [(128, 1), (10_240, 900)])
def test_limits_themselves_are_accepted(memory, seconds):
    _template(memory_size=memory, timeout=Duration.seconds(seconds)).has_resource_properties(
        "AWS::Lambda::Function", {"MemorySize": memory, "Timeout": seconds}
    )


def test_provisioned_concurrency_is_served_through_the_live_alias():
    template = _template(provisioned_concurrency=2, reserved_concurrency=10)

    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}},
    )
    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 10})


def test_provisioned_concurrency_above_reserved_is_an_error():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(
        ConfigurationError, match=r"provisioned_concurrency \(5\) cannot exceed reserved_concurrency \(2\)"
    ):
        ServerlessFunction(stack, "Fn", code=echo_code(), provisioned_concurrency=5, reserved_concurrency=2)


def test_function_in_a_vpc_uses_private_subnets_and_passes_nag_and_cfn_lint():
    app = new_app()
    stack = cdk.Stack(app, "S")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    cdk.Validations.of(vpc).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-VPC7", reason="The test VPC needs no flow logs")
    )
    ServerlessFunction(stack, "Fn", code=echo_code(), vpc=vpc)

    assembly, findings = synth_with_nag(app)

    assert findings == []
    template = assembly.get_stack_by_name("S").template
    assert cfn_lint_errors(template) == []
    Template.from_json(template).has_resource_properties(
        "AWS::Lambda::Function",
        {"VpcConfig": {"SubnetIds": Match.any_value(), "SecurityGroupIds": Match.any_value()}},
    )


def test_function_in_a_vpc_may_manage_its_network_interfaces():
    stack = cdk.Stack(new_app(), "S")
    ServerlessFunction(stack, "Fn", code=echo_code(), vpc=ec2.Vpc(stack, "Vpc", max_azs=2))

    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": Match.array_with(["ec2:CreateNetworkInterface"]), "Resource": "*"}
                        )
                    ]
                )
            }
        },
    )


def test_function_is_created_after_its_inline_policy():
    # Lambda refuses to create a VPC function whose role cannot yet manage network interfaces; those
    # permissions live in the FunctionPolicy, so CloudFormation must create that policy first.
    stack = cdk.Stack(new_app(), "S")
    ServerlessFunction(stack, "Fn", code=echo_code(), vpc=ec2.Vpc(stack, "Vpc", max_azs=2))
    template = Template.from_stack(stack)

    (policy_id,) = [
        logical_id
        for logical_id, policy in template.find_resources("AWS::IAM::Policy").items()
        if "ec2:CreateNetworkInterface" in str(policy["Properties"]["PolicyDocument"])
    ]
    ((_, function),) = template.find_resources("AWS::Lambda::Function").items()
    assert policy_id in function["DependsOn"]
