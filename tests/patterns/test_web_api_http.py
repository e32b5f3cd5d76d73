"""WebApiBackend(api_type="http"): the same routes and handler behind an API Gateway v2 HTTP API."""

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from lambda_patterns import WebApiBackend
from lambda_patterns.errors import ConfigurationError
from synth_helpers import cfn_lint_errors, new_app, synth_with_rule_packs


def _app(**props):
    app = new_app()
    stack = cdk.Stack(app, "Web")
    backend = WebApiBackend(stack, "Items", api_type="http", **props)
    return app, stack, backend


def test_http_api_serves_every_route_of_the_rest_api_with_payload_2_and_iam():
    _, stack, backend = _app()
    template = Template.from_stack(stack)

    keys = sorted(
        r["Properties"]["RouteKey"] for r in template.find_resources("AWS::ApiGatewayV2::Route").values()
    )
    assert keys == sorted(
        [
            "GET /items",
            "POST /items",
            "GET /items/{id}",
            "PUT /items/{id}",
            "PATCH /items/{id}",
            "DELETE /items/{id}",
        ]
    )
    template.resource_properties_count_is(
        "AWS::ApiGatewayV2::Route", Match.object_like({"AuthorizationType": "AWS_IAM"}), 6
    )
    template.has_resource_properties("AWS::ApiGatewayV2::Integration", {"PayloadFormatVersion": "2.0"})
    template.resource_count_is("AWS::ApiGateway::RestApi", 0)
    assert backend.api_type == "http" and backend.http_api is not None
    assert backend.access_log_group is backend.http_api.access_log_group


def test_http_api_passes_the_rule_packs_and_cfn_lint():
    app, _, _ = _app(cors_allow_origin="https://shop.example")
    assembly, findings = synth_with_rule_packs(app)
    assert findings == []
    assert cfn_lint_errors(assembly.get_stack_by_name("Web").template) == []


def test_rest_only_props_are_refused_with_http():
    with pytest.raises(ConfigurationError) as error:
        _app(rest_api_props={"description": "x"})
    assert error.value.code == "LambdaPatterns.WebApi.ApiType"


def test_the_rest_trigger_is_not_there_to_misuse():
    _, _, backend = _app()
    with pytest.raises(AttributeError, match="api_type='http' has no REST trigger"):
        _ = backend.rest_api
