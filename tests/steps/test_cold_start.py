"""Cold-start controls of ServerlessFunction: SnapStart on published versions and provisioned concurrency
that scales on utilisation, with their synth-time checks."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers import SqsTrigger
from synth_helpers import cfn_lint_errors, echo_code, new_app, synth_with_nag


def _stack():
    return cdk.Stack(new_app(), "S")


def test_snap_start_is_on_for_published_versions_and_the_live_alias_points_at_one():
    stack = _stack()
    ServerlessFunction(stack, "Fn", code=echo_code(), snap_start=True)
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Runtime": "python3.14", "SnapStart": {"ApplyOn": "PublishedVersions"}},
    )
    (version_id,) = template.find_resources("AWS::Lambda::Version")
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {
            "Name": "live",
            "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
            "ProvisionedConcurrencyConfig": Match.absent(),
        },
    )


def test_triggers_of_a_snap_start_function_invoke_the_published_version():
    stack = _stack()
    fn = ServerlessFunction(stack, "Fn", code=echo_code(), snap_start=True)
    SqsTrigger(stack, "Jobs", function=fn)
    template = Template.from_stack(stack)

    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    separator, parts = mapping["Properties"]["FunctionName"]["Fn::Join"]
    assert parts[-1] == ":live"


def test_snap_start_on_a_runtime_without_it_is_refused():
    with pytest.raises(
        ConfigurationError,
        match=r"snap_start needs a runtime with SnapStart \(Python 3.12 or newer\); python3.11",
    ):
        ServerlessFunction(
            _stack(), "Fn", code=echo_code(), runtime=lambda_.Runtime.PYTHON_3_11, snap_start=True
        )


def test_snap_start_with_provisioned_concurrency_is_refused():
    with pytest.raises(ConfigurationError, match="snap_start and provisioned_concurrency cannot be combined"):
        ServerlessFunction(_stack(), "Fn", code=echo_code(), snap_start=True, provisioned_concurrency=2)


def test_snap_start_stays_off_by_default():
    stack = _stack()
    ServerlessFunction(stack, "Fn", code=echo_code())

    Template.from_stack(stack).has_resource_properties("AWS::Lambda::Function", {"SnapStart": Match.absent()})


def test_provisioned_concurrency_scales_between_min_and_max_at_70_percent_utilisation():
    stack = _stack()
    ServerlessFunction(
        stack, "Fn", code=echo_code(), provisioned_concurrency=2, provisioned_concurrency_max=10
    )
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": 2,
            "MaxCapacity": 10,
            "ScalableDimension": "lambda:function:ProvisionedConcurrency",
            "ServiceNamespace": "lambda",
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"
                },
                "TargetValue": 0.7,
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )


def test_provisioned_concurrency_without_max_is_not_scaled():
    stack = _stack()
    ServerlessFunction(stack, "Fn", code=echo_code(), provisioned_concurrency=2)

    Template.from_stack(stack).resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


@pytest.mark.parametrize(
    "props,message",
    [
        (
            {"provisioned_concurrency_max": 5},
            r"provisioned_concurrency_max needs provisioned_concurrency \(the minimum it scales from\)",
        ),
        (
            {"provisioned_concurrency": 4, "provisioned_concurrency_max": 3},
            r"provisioned_concurrency_max \(3\) must be at least provisioned_concurrency \(4\)",
        ),
        (
            {"provisioned_concurrency": 2, "provisioned_concurrency_max": 20, "reserved_concurrency": 10},
            r"provisioned_concurrency_max \(20\) cannot exceed reserved_concurrency \(10\)",
        ),
    ],
)
def test_inconsistent_provisioned_concurrency_scaling_is_refused(props, message):
    with pytest.raises(ConfigurationError, match=message):
        ServerlessFunction(_stack(), "Fn", code=echo_code(), **props)


def test_snap_start_and_scaled_functions_pass_cdk_nag_and_cfn_lint():
    app = new_app()
    stack = cdk.Stack(app, "S")
    ServerlessFunction(stack, "Snap", code=echo_code(), snap_start=True, alarms=True)
    ServerlessFunction(
        stack, "Warm", code=echo_code(), provisioned_concurrency=1, provisioned_concurrency_max=4
    )

    assembly, findings = synth_with_nag(app)

    assert findings == []
    assert cfn_lint_errors(assembly.get_stack_by_name("S").template) == []
