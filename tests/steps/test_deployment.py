"""Deployment: new versions reach the ``live`` alias through CodeDeploy (canary, linear, all at once), rolled
back on the function's alarms, with every trigger and integration on the alias."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from lambda_patterns import Deployment, LambdaService
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.deployment import FunctionDeployment
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers import ApiGatewayTrigger, SqsTrigger
from synth_helpers import FIXTURES, cfn_lint_errors, echo_code, new_app, synth_with_rule_packs


def _canary_app():
    app = new_app()
    stack = cdk.Stack(app, "S")
    hook = ServerlessFunction(stack, "Hook", code=echo_code())
    fn = ServerlessFunction(
        stack, "Fn", code=echo_code(), alarms=True, deployment=Deployment.canary(10, 5, pre_traffic=hook)
    )
    SqsTrigger(stack, "Orders", function=fn)
    ApiGatewayTrigger(stack, "Api", function=fn)
    return app, stack, fn, hook


@pytest.fixture(scope="module")
def canary():
    app, stack, fn, hook = _canary_app()
    return Template.from_stack(stack), stack, fn, hook


def _ref(stack, construct) -> dict:
    return {"Ref": stack.get_logical_id(construct.node.default_child)}


def test_canary_shifts_the_live_alias_with_codedeploy_and_rolls_back_on_the_functions_alarms(canary):
    template, stack, fn, hook = canary

    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "AutoRollbackConfiguration": {
                "Enabled": True,
                "Events": Match.array_with(["DEPLOYMENT_STOP_ON_ALARM"]),
            },
        },
    )
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    alarms = [a["Name"] for a in group["Properties"]["AlarmConfiguration"]["Alarms"]]
    function_alarms = fn.alarms.alarms
    # errors, throttles, duration, the async failure queue, and the one the SQS trigger added afterwards
    assert len(function_alarms) == 5
    assert alarms == [_ref(stack, a) for a in function_alarms]
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == "live"
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["BeforeAllowTrafficHook"] == {
        "Ref": stack.get_logical_id(hook.function.node.default_child)
    }


def test_every_trigger_and_integration_invokes_the_alias_not_latest(canary):
    template, stack, fn, _ = canary
    alias_ref = stack.get_logical_id(fn.alias.node.default_child)

    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    assert alias_ref in str(mapping["Properties"]["FunctionName"])
    methods = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "ANY"}})
    assert methods and all(alias_ref in str(m["Properties"]["Integration"]["Uri"]) for m in methods.values())


def test_codedeploy_role_has_no_managed_policy_and_moves_only_this_functions_alias(canary):
    template, stack, fn, hook = canary
    roles = template.find_resources(
        "AWS::IAM::Role",
        {
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [{"Principal": {"Service": "codedeploy.amazonaws.com"}}]
                }
            }
        },
    )
    ((role_id, role),) = roles.items()
    assert "ManagedPolicyArns" not in role["Properties"]
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements = {
        tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])): s["Resource"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    fn_arn = {"Fn::GetAtt": [stack.get_logical_id(fn.function.node.default_child), "Arn"]}
    assert statements[
        ("lambda:GetAlias", "lambda:GetProvisionedConcurrencyConfig", "lambda:UpdateAlias")
    ] == [
        fn_arn,
        {"Fn::Join": ["", [fn_arn, ":*"]]},
    ]
    hook_arn = {"Fn::GetAtt": [stack.get_logical_id(hook.function.node.default_child), "Arn"]}
    assert statements[("lambda:InvokeFunction",)] == [hook_arn, {"Fn::Join": ["", [hook_arn, ":*"]]}]


def test_deployment_passes_the_rule_packs_and_cfn_lint():
    app, stack, _, _ = _canary_app()
    assembly, findings = synth_with_rule_packs(app)

    assert findings == []
    assert cfn_lint_errors(assembly.get_stack_by_name("S").template) == []


def test_a_code_change_publishes_a_new_version_for_the_alias():
    def version_ids(code) -> set[str]:
        stack = cdk.Stack(new_app(), "S")
        ServerlessFunction(stack, "Fn", code=code, deployment=Deployment.all_at_once())
        return set(Template.from_stack(stack).find_resources("AWS::Lambda::Version"))

    one = version_ids(echo_code())
    assert one == version_ids(echo_code())
    assert one != version_ids(lambda_.Code.from_asset(str(FIXTURES / "package" / "handler")))


def test_linear_shift_without_a_predefined_config_gets_its_own():
    stack = cdk.Stack(new_app(), "S")
    ServerlessFunction(stack, "Fn", code=echo_code(), alarms=True, deployment=Deployment.linear(20, 3))

    Template.from_stack(stack).has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {
            "ComputePlatform": "Lambda",
            "TrafficRoutingConfig": {
                "Type": "TimeBasedLinear",
                "TimeBasedLinear": {"LinearInterval": 3, "LinearPercentage": 20},
            },
        },
    )


def test_all_at_once_needs_no_alarm_and_does_not_claim_to_roll_back_on_one():
    stack = cdk.Stack(new_app(), "S")
    ServerlessFunction(stack, "Fn", code=echo_code(), deployment=Deployment.all_at_once())

    (group,) = Template.from_stack(stack).find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    assert group["Properties"]["DeploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    assert "DEPLOYMENT_STOP_ON_ALARM" not in group["Properties"]["AutoRollbackConfiguration"]["Events"]


def test_extra_alarms_roll_back_too():
    stack = cdk.Stack(new_app(), "S")
    metric = cloudwatch.Metric(namespace="Shop", metric_name="Checkout5xx")
    extra = metric.create_alarm(stack, "Checkout", threshold=1, evaluation_periods=1)
    ServerlessFunction(stack, "Fn", code=echo_code(), deployment=Deployment.canary(alarms=[extra]))

    (group,) = Template.from_stack(stack).find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    assert group["Properties"]["AlarmConfiguration"]["Alarms"] == [{"Name": _ref(stack, extra)}]


def test_lambda_service_takes_a_deployment():
    stack = cdk.Stack(new_app(), "S")
    service = LambdaService(
        stack,
        "Svc",
        existing_code=echo_code(),
        deployment=Deployment.linear(),
        function_props={"alarms": True},
    )

    assert service.function.deployment is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"},
    )


def test_a_hook_that_the_deployment_itself_deploys_is_refused():
    # given a deployed function, when a deployment of its alias names the function as its own hook
    stack = cdk.Stack(new_app(), "S")
    fn = ServerlessFunction(stack, "Fn", code=echo_code(), alarms=True, deployment=Deployment.all_at_once())

    with pytest.raises(ConfigurationError) as error:
        FunctionDeployment(
            stack,
            "Again",
            deployment=Deployment.canary(pre_traffic=fn),
            alias=fn.alias,
            deployed=[fn],
            alarms=fn.alarms.alarms,
        )

    # then the synth stops, naming the hook
    assert error.value.code == "LambdaPatterns.Deployment.Hook"
    assert "the hook S/Fn is the function this deployment shifts" in str(error.value)


def test_gradual_deployment_without_any_alarm_is_refused():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        ServerlessFunction(stack, "Fn", code=echo_code(), deployment=Deployment.canary())

    assert error.value.code == "LambdaPatterns.Deployment.Alarms"
