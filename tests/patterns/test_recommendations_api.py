"""RecommendationsApi: an IAM-authorized GET route over a purchase processor's co-purchase counts."""

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from lambda_patterns import PurchaseEventProcessor, RecommendationsApi
from lambda_patterns.errors import ConfigurationError
from synth_helpers import cfn_lint_errors, new_app, synth_with_rule_packs


def _app():
    app = new_app()
    stack = cdk.Stack(app, "Shop")
    purchases = PurchaseEventProcessor(stack, "Purchases")
    api = RecommendationsApi(
        stack, "Recommendations", aggregates_table=purchases.aggregates_table, max_limit=20
    )
    return app, stack, purchases, api


@pytest.fixture(scope="module")
def shop():
    app, stack, purchases, api = _app()
    return Template.from_stack(stack), stack, purchases, api


def test_the_route_is_a_get_under_the_product_authorized_by_iam(shop):
    template, _, _, _ = shop
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "recommendations"})
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "GET", "AuthorizationType": "AWS_IAM", "Integration": {"Type": "AWS_PROXY"}},
    )
    assert not template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "POST"}})


def test_the_function_reads_the_aggregates_table_and_nothing_else(shop):
    template, stack, purchases, api = shop
    table = stack.get_logical_id(purchases.aggregates_table.node.default_child)
    role = stack.get_logical_id(api.function.role.node.default_child)
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if str(s["Action"]).startswith("['dynamodb") or str(s["Action"]).startswith("dynamodb")
    ]
    actions = sorted(
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["dynamodb:BatchGetItem", "dynamodb:Query"]
    assert all(s["Resource"] == {"Fn::GetAtt": [table, "Arn"]} for s in statements)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"AGGREGATES_TABLE": {"Ref": table}, "DEFAULT_LIMIT": "10", "MAX_LIMIT": "20"}
                )
            }
        },
    )


def test_recommendations_api_passes_the_rule_packs_and_cfn_lint():
    app, _, _, _ = _app()
    assembly, findings = synth_with_rule_packs(app)
    assert findings == []
    assert cfn_lint_errors(assembly.get_stack_by_name("Shop").template) == []


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"default_limit": 0}, "default_limit must be a whole number from 1 to 1000, got 0"),
        ({"max_limit": 1001}, "max_limit must be a whole number from 1 to 1000, got 1001"),
        ({"default_limit": 30, "max_limit": 20}, "default_limit 30 is above max_limit 20"),
    ],
)
def test_limits_the_api_cannot_serve_are_refused_at_synth(props, message):
    stack = cdk.Stack(new_app(), "S")
    purchases = PurchaseEventProcessor(stack, "Purchases")
    with pytest.raises(ConfigurationError, match=message) as error:
        RecommendationsApi(stack, "R", aggregates_table=purchases.aggregates_table, **props)
    assert error.value.code == "LambdaPatterns.Recommendations.Limits"
