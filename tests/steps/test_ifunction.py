"""ServerlessFunction is an aws_lambda.IFunction: aws-cdk-lib's own idioms take it as they are.

Given a ServerlessFunction (as LambdaService and every pattern return it), when a user's app passes it to
aws-cdk-lib's grants, event sources, permissions, integrations and targets, then the synthesized template
wires the real function and its execution role, as it would for an ``aws_lambda.Function``.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from aws_cdk.aws_lambda_event_sources import SqsEventSource

from lambda_patterns import ServerlessFunction
from synth_helpers import new_app


@pytest.fixture
def stack_and_function():
    stack = cdk.Stack(new_app(), "S")
    fn = ServerlessFunction(stack, "Fn", code=lambda_.Code.from_inline("def handler(e, c): return e"))
    return stack, fn


def _function_ref(stack: cdk.Stack, fn: ServerlessFunction) -> dict:
    return {"Ref": stack.get_logical_id(fn.function.node.default_child)}


def _role_statements(template: Template) -> list[dict]:
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_a_table_grant_reaches_the_functions_role(stack_and_function):
    stack, fn = stack_and_function
    table = dynamodb.TableV2(
        stack, "T", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )

    table.grant_read_write_data(fn)
    s3.Bucket(stack, "B").grant_read(fn)

    actions = {
        a
        for s in _role_statements(Template.from_stack(stack))
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"dynamodb:PutItem", "dynamodb:GetItem", "s3:GetObject*"} <= actions
    assert fn.grant_principal is not None and fn.role is fn.function.role


def test_add_event_source_maps_the_queue_to_the_function(stack_and_function):
    stack, fn = stack_and_function

    fn.add_event_source(SqsEventSource(sqs.Queue(stack, "Q"), report_batch_item_failures=True))

    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionName": _function_ref(stack, fn), "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )


def test_invoke_permissions_integrations_and_targets_name_the_function(stack_and_function):
    stack, fn = stack_and_function

    fn.grant_invoke(iam.ServicePrincipal("events.amazonaws.com"))
    events.Rule(
        stack, "R", schedule=events.Schedule.rate(cdk.Duration.hours(1)), targets=[targets.LambdaFunction(fn)]
    )
    api = apigw.RestApi(stack, "Api", cloud_watch_role=False)
    api.root.add_method("GET", apigw.LambdaIntegration(fn))

    template = Template.from_stack(stack)
    arn = {"Fn::GetAtt": [_function_ref(stack, fn)["Ref"], "Arn"]}
    template.has_resource_properties(
        "AWS::Lambda::Permission", {"Principal": "events.amazonaws.com", "FunctionName": arn}
    )
    template.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({"Arn": arn})]})
    template.has_resource_properties("AWS::Lambda::Permission", {"Principal": "apigateway.amazonaws.com"})
    assert fn.metric_errors().metric_name == "Errors"
    assert fn.function_name == fn.function.function_name
