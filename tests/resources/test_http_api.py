"""``SecureHttpApi``: an HTTP API (API Gateway v2) with its ``$default`` stage, throttling, JSON access logs,
CORS preflight and IAM or Cognito JWT authorization on the Lambda routes it adds."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match, Template

from lambda_patterns import ServerlessFunction
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.resources.http_api import ACCESS_LOG_FIELDS, SecureHttpApi
from synth_helpers import cfn_lint_errors, checkov_failures, echo_code, new_app, synth_with_packs

ORIGIN = "https://app.example.com"
#: An existing pool: its own settings are its owner's business, not this construct's.
POOL_ID = "us-east-1_Example1"


def _stack(app: cdk.App | None = None) -> tuple[cdk.Stack, ServerlessFunction]:
    stack = cdk.Stack(app or new_app(), "S")
    return stack, ServerlessFunction(stack, "Fn", code=echo_code())


def _iam_api(stack: cdk.Stack, function: ServerlessFunction, **kwargs) -> SecureHttpApi:
    api = SecureHttpApi(stack, "Api", cors_allow_origins=[ORIGIN], **kwargs)
    api.add_lambda_routes(function, {"/items/{id}": ("GET", "DELETE"), "/items": "POST"})
    return api


def _jwt_api(stack: cdk.Stack, function: ServerlessFunction, **kwargs) -> SecureHttpApi:
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    api = SecureHttpApi(stack, "Jwt", user_pool=pool, **kwargs)
    api.add_lambda_routes(function, {"/items": ["GET"]})
    return api


def _routes(template: Template) -> dict[str, dict]:
    return {
        resource["Properties"]["RouteKey"]: resource["Properties"]
        for resource in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }


def test_routes_are_authorized_with_iam_by_default_and_share_one_payload_2_integration():
    stack, function = _stack()
    _iam_api(stack, function)
    template = Template.from_stack(stack)

    routes = _routes(template)
    assert sorted(routes) == ["DELETE /items/{id}", "GET /items/{id}", "POST /items"]
    assert {route["AuthorizationType"] for route in routes.values()} == {"AWS_IAM"}
    template.resource_count_is("AWS::ApiGatewayV2::Integration", 1)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {
            "IntegrationType": "AWS_PROXY",
            "PayloadFormatVersion": "2.0",
            "IntegrationUri": {"Fn::GetAtt": [Match.string_like_regexp("^FnFunction"), "Arn"]},
        },
    )
    # API Gateway may invoke the function for each route, and only those.
    template.resource_count_is("AWS::Lambda::Permission", 3)
    template.resource_count_is("AWS::ApiGatewayV2::Authorizer", 0)


def test_a_user_pool_makes_routes_check_its_jwts_for_a_client_and_scopes():
    stack, function = _stack()
    api = _jwt_api(stack, function, authorization_scopes=["items/read"])
    api.add_lambda_routes(function, {"/admin": "ANY"}, authorization_scopes=["items/admin"])
    template = Template.from_stack(stack)

    routes = _routes(template)
    assert {key: route["AuthorizationType"] for key, route in routes.items()} == {
        "GET /items": "JWT",
        "ANY /admin": "JWT",
    }
    assert routes["GET /items"]["AuthorizationScopes"] == ["items/read"]
    assert routes["ANY /admin"]["AuthorizationScopes"] == ["items/admin"]
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Audience": [{"Ref": Match.string_like_regexp("^JwtUserPoolClient")}],
                "Issuer": {"Fn::Join": ["", Match.array_with([f".amazonaws.com/{POOL_ID}"])]},
            },
        },
    )
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {"UserPoolId": POOL_ID, "GenerateSecret": False, "AllowedOAuthFlowsUserPoolClient": False},
    )
    assert api.user_pool_client is not None


def test_a_given_user_pool_client_is_the_audience_and_none_is_created():
    stack, function = _stack()
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    client = cognito.UserPoolClient.from_user_pool_client_id(stack, "Client", "client123")
    api = SecureHttpApi(stack, "Jwt", user_pool=pool, user_pool_client=client)
    api.add_lambda_routes(function, {"/items": "GET"})
    template = Template.from_stack(stack)

    template.resource_count_is("AWS::Cognito::UserPoolClient", 0)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer", {"JwtConfiguration": Match.object_like({"Audience": ["client123"]})}
    )
    assert "AuthorizationScopes" not in _routes(template)["GET /items"]


def test_cors_preflight_allows_the_origins_and_the_sigv4_and_authorization_headers():
    stack, function = _stack()
    _iam_api(stack, function)

    cors = Template.from_stack(stack).find_resources("AWS::ApiGatewayV2::Api")
    (api,) = cors.values()
    configuration = api["Properties"]["CorsConfiguration"]
    assert configuration["AllowOrigins"] == [ORIGIN]
    assert configuration["AllowMethods"] == ["*"]
    assert {"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Content-Type"} <= set(
        configuration["AllowHeaders"]
    )
    assert configuration["MaxAge"] == 600


def test_without_origins_there_is_no_cors_configuration():
    stack, function = _stack()
    _jwt_api(stack, function)
    Template.from_stack(stack).has_resource_properties(
        "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP", "CorsConfiguration": Match.absent()}
    )


@pytest.mark.parametrize(
    ("kwargs", "rate", "burst"),
    [({}, 100, 200), ({"throttle_rate_limit": 5, "throttle_burst_limit": 10}, 5, 10)],
)
def test_the_default_stage_auto_deploys_and_throttles_every_route(kwargs, rate, burst):
    stack, function = _stack()
    _iam_api(stack, function, **kwargs)
    Template.from_stack(stack).has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst},
        },
    )


def test_limits_that_are_not_positive_are_refused():
    stack, _ = _stack()
    with pytest.raises(ConfigurationError, match="must be positive"):
        SecureHttpApi(stack, "Api", throttle_rate_limit=100, throttle_burst_limit=0)


@pytest.mark.parametrize("kwargs", [{"authorization_scopes": ["items/read"]}, {"user_pool_client": object()}])
def test_jwt_settings_without_a_user_pool_are_refused(kwargs):
    stack, _ = _stack()
    with pytest.raises(ConfigurationError, match="need user_pool"):
        SecureHttpApi(stack, "Api", **kwargs)


def test_unknown_route_methods_are_refused():
    stack, function = _stack()
    api = SecureHttpApi(stack, "Api")
    with pytest.raises(ConfigurationError, match="unknown HTTP methods"):
        api.add_lambda_routes(function, {"/items": ["FETCH"]})


def test_access_logs_are_json_to_a_log_group_kept_three_months():
    stack, function = _stack()
    _iam_api(stack, function)
    template = Template.from_stack(stack)

    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["AccessLogSettings"]
    logical_id, attribute = settings["DestinationArn"]["Fn::GetAtt"]
    assert (logical_id.startswith("ApiAccessLogs"), attribute) == (True, "Arn")
    record = json.loads(settings["Format"])
    assert record == dict(ACCESS_LOG_FIELDS)
    assert {"requestId", "ip", "routeKey", "status"} <= set(record)
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def test_the_hardened_profile_encrypts_the_access_logs_with_the_stacks_key():
    stack, function = _stack()
    SecureHttpApi(stack, "Api", profile="hardened")
    template = Template.from_stack(stack)
    (log_group,) = [
        group
        for logical_id, group in template.find_resources("AWS::Logs::LogGroup").items()
        if logical_id.startswith("ApiAccessLogs")
    ]
    assert "KmsKeyId" in log_group["Properties"]


#: The packs the hardened profile is held to (tests/test_hardened_profile.py).
HARDENED_PACKS = ("AwsSolutions", "Serverless", "HIPAASecurity", "NIST80053R5", "PCIDSS321")


@pytest.mark.parametrize(
    ("context", "packs"),
    [({}, ("AwsSolutions", "Serverless")), ({"lambda-patterns:profile": "hardened"}, HARDENED_PACKS)],
    ids=["standard", "hardened"],
)
def test_rule_packs_checkov_and_cfn_lint_find_nothing_on_either_authorization(context, packs):
    app = new_app(**context)
    stack, function = _stack(app)
    _iam_api(stack, function)
    _jwt_api(stack, function, authorization_scopes=["items/read"])

    assembly, findings = synth_with_packs(app, packs)
    assert findings == []
    assert checkov_failures(assembly.directory) == []
    assert cfn_lint_errors(assembly.get_stack_by_name("S").template) == []
