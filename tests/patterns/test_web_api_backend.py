"""WebApiBackend and WebBackendStack: snapshot, properties that matter, nag, cfn-lint, the models against the
handler's own validator, prop errors."""

import json
import sys
from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import jsonschema
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from syrupy.extensions.json import JSONSnapshotExtension

from lambda_patterns import ApiGatewayTrigger, ConfigurationError, ServerlessFunction, WebApiBackend
from lambda_patterns.patterns.web_api_schema import body_models, draft04
from stacks.web_backend_stack import ITEM_SCHEMA, WebBackendStack
from synth_helpers import FIXTURES, cfn_lint_errors, new_app, normalized, synth_with_nag

# The handler's validator imports lambda_common, as it does in the function package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda_src" / "common"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda_src" / "web_api_backend"))

from api_config import load_settings  # noqa: E402
from api_responses import error_body  # noqa: E402
from api_validation import Invalid, validate  # noqa: E402

ALL_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"}


@pytest.fixture(scope="module")
def synthesized():
    app = new_app()
    WebBackendStack(app, "WebBackendStack")
    assembly, findings = synth_with_nag(app)
    return (assembly.get_stack_by_name("WebBackendStack").template if assembly else None), findings


@pytest.fixture(scope="module")
def template(synthesized):
    return Template.from_json(synthesized[0])


def _methods(template: Template) -> dict[str, dict]:
    """The stack's methods by 'METHOD /path', OPTIONS (CORS preflight) left out."""
    resources = template.to_json()["Resources"]

    def path(resource_id: str) -> str:
        resource = resources[resource_id]["Properties"]
        parent = resource["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{resource['PathPart']}"

    return {
        f"{m['Properties']['HttpMethod']} {path(m['Properties']['ResourceId']['Ref'])}": m["Properties"]
        for m in template.find_resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
    }


def _model_schema(template: Template, method: dict, content_type: str = "application/json") -> dict:
    model_id = method["RequestModels"][content_type]["Ref"]
    return template.to_json()["Resources"][model_id]["Properties"]["Schema"]


def _function_environment(template: Template) -> dict:
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    return function["Properties"]["Environment"]["Variables"]


# --- the stack ------------------------------------------------------------------------------------------


def test_web_backend_stack_matches_its_snapshot(synthesized, snapshot):
    assert normalized(synthesized[0]) == snapshot.use_extension(JSONSnapshotExtension)


def test_web_backend_stack_passes_cdk_nag(synthesized):
    assert synthesized[1] == []


def test_web_backend_stack_passes_cfn_lint(synthesized):
    assert cfn_lint_errors(synthesized[0]) == []


def test_every_crud_route_requires_iam_authorization_and_goes_through_the_validator(template):
    methods = _methods(template)

    assert sorted(methods) == [
        "DELETE /items/{id}",
        "GET /items",
        "GET /items/{id}",
        "PATCH /items/{id}",
        "POST /items",
        "PUT /items/{id}",
    ]
    for method in methods.values():
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert "RequestValidatorId" in method
    template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )


def test_post_and_put_bodies_have_the_item_schema_as_model_and_patch_only_an_object(template):
    methods = _methods(template)

    post = _model_schema(template, methods["POST /items"])
    put = _model_schema(template, methods["PUT /items/{id}"])
    patch = _model_schema(template, methods["PATCH /items/{id}"])

    assert post["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert post["required"] == ["name", "price"]
    assert post["properties"]["price"] == {"type": "number", "minimum": 0}
    assert post["additionalProperties"] is False
    # PUT may repeat the key and name the version it replaces; the handler checks both itself.
    assert put["properties"]["id"] == {"type": "string"}
    assert put["properties"]["version"] == {"type": "number"}
    assert patch == {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}
    for name in ("POST /items", "PUT /items/{id}", "PATCH /items/{id}"):
        assert sorted(methods[name]["RequestModels"]) == ["application/json", "application/merge-patch+json"]
    for name in ("GET /items", "GET /items/{id}", "DELETE /items/{id}"):
        assert "RequestModels" not in methods[name]


def test_stage_throttles_logs_every_request_and_traces(template):
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "prod",
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like(
                {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")}
            ),
            "MethodSettings": [
                Match.object_like(
                    {
                        "ThrottlingRateLimit": 100,
                        "ThrottlingBurstLimit": 200,
                        "LoggingLevel": "INFO",
                        "MetricsEnabled": True,
                    }
                )
            ],
        },
    )


def test_table_is_on_demand_encrypted_with_the_aws_managed_key_recoverable_and_retained(template):
    tables = template.find_resources("AWS::DynamoDB::GlobalTable")
    assert len(tables) == 1
    (table,) = tables.values()

    properties = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    # SSEType KMS without a key id is the AWS-managed key aws/dynamodb.
    assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert properties["Replicas"][0]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }


def test_function_gets_the_handler_settings(template):
    (table_id,) = template.find_resources("AWS::DynamoDB::GlobalTable")
    environment = _function_environment(template)

    assert environment["TABLE_NAME"] == {"Ref": table_id}
    assert json.loads(environment["ITEM_SCHEMA"]) == ITEM_SCHEMA
    assert {k: v for k, v in environment.items() if k not in ("TABLE_NAME", "ITEM_SCHEMA")} == {
        "RESOURCE": "items",
        "KEY_NAME": "id",
        "MAX_BODY_BYTES": "65536",
        "PAGE_SIZE": "25",
        "METRICS_NAMESPACE": "LambdaPatterns/WebApi",
        "SERVICE_NAME": "Items",
    }
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Timeout": 29, "Architectures": ["arm64"], "Runtime": "python3.14"}
    )


def test_function_may_only_get_put_delete_and_scan_items_of_its_table(template):
    (table_id,) = template.find_resources("AWS::DynamoDB::GlobalTable")
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(action).startswith("dynamodb:") for action in statement["Action"])
    ]

    assert len(statements) == 1
    assert set(statements[0]["Action"]) == ALL_ACTIONS
    assert statements[0]["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}


def test_synchronous_invocations_get_no_failure_queue(template):
    template.resource_count_is("AWS::SQS::Queue", 0)


def test_api_gateway_errors_carry_the_handlers_error_envelope(template):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]["ResponseTemplates"]["application/json"]
        for r in template.find_resources("AWS::ApiGateway::GatewayResponse").values()
    }
    # What API Gateway substitutes: messageString comes as a quoted JSON string, the others as plain text.
    substitutions = {
        "$context.error.messageString": '"Invalid request body"',
        "$context.error.responseType": "BAD_REQUEST_BODY",
        "$context.requestId": "c0ffee",
    }

    def rendered(text: str) -> dict:
        for variable, value in substitutions.items():
            text = text.replace(variable, value)
        return json.loads(text)

    assert sorted(responses) == ["BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"]
    assert rendered(responses["BAD_REQUEST_BODY"]) == error_body("validation_failed", "Invalid request body")
    assert rendered(responses["DEFAULT_4XX"]) == error_body("BAD_REQUEST_BODY", "Invalid request body")
    assert rendered(responses["DEFAULT_5XX"]) == error_body(
        "BAD_REQUEST_BODY", "Invalid request body", request_id="c0ffee"
    )


def test_the_environment_written_is_what_the_handler_loads_at_cold_start(template):
    environment = {**_function_environment(template), "TABLE_NAME": "items-table"}

    settings = load_settings(environment)

    assert (settings.resource, settings.key_name, settings.page_size) == ("items", "id", 25)
    assert settings.schema == json.loads(environment["ITEM_SCHEMA"], parse_float=Decimal, parse_int=Decimal)
    assert settings.client_ids is False


# --- the models against the handler's validator ---------------------------------------------------------

SCHEMA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "stock": {"type": "integer", "minimum": 5, "exclusiveMinimum": 2},
        "discount": {"type": "number", "exclusiveMaximum": 1},
        "notes": True,
        "legacy": False,
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def _handler_accepts(body: dict, method: str) -> bool:
    # What the handler validates: the client fields (key and version removed) against the item schema
    # without the key; on PUT a key equal to the URL's and an integer version are accepted besides.
    fields = {k: v for k, v in body.items() if k not in ("id", "version")}
    if method == "POST" and ("id" in body or "version" in body):
        return False
    parsed = json.loads(json.dumps(fields), parse_float=Decimal, parse_int=Decimal)
    try:
        validate(parsed, load_settings({"ITEM_SCHEMA": json.dumps(SCHEMA)}).body_schema)
    except Invalid:
        return False
    return True


@pytest.mark.parametrize(
    "body",
    [
        {"name": "mug"},
        {"name": "mug", "price": 0.01, "stock": 5, "discount": 0.5, "notes": {"any": ["thing"]}},
        {"name": ""},
        {"price": 3},
        {"name": "mug", "price": 0},
        {"name": "mug", "price": 1000.5},
        {"name": "mug", "stock": 4},
        {"name": "mug", "discount": 1},
        {"name": "mug", "legacy": 1},
        {"name": "mug", "colour": "red"},
        {"name": "mug", "tags": ["a", 1]},
        {"name": "mug", "id": "mug-1", "version": 3},
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_models_judge_bodies_as_the_handler_does(body, method):
    model = body_models(SCHEMA, "id")[method]
    jsonschema.Draft4Validator.check_schema(model)

    model_accepts = jsonschema.Draft4Validator(model).is_valid(body)

    if method == "POST" and ("id" in body or "version" in body):
        # The server assigns both: the handler refuses what the model lets through, never the reverse.
        assert not _handler_accepts(body, method)
    else:
        assert model_accepts == _handler_accepts(body, method)


def test_patch_model_accepts_any_object_and_nothing_else():
    model = body_models(SCHEMA, "id")["PATCH"]

    assert jsonschema.Draft4Validator(model).is_valid({"price": None, "name": 5})
    assert not jsonschema.Draft4Validator(model).is_valid(["name"])


def test_numeric_exclusive_bounds_become_draft4_bounds_and_keep_the_stricter_one():
    assert draft04({"type": "number", "exclusiveMinimum": 0}) == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
    }
    assert draft04({"type": "number", "minimum": 5, "exclusiveMinimum": 2}) == {
        "type": "number",
        "minimum": 5,
    }
    assert draft04({"type": "number", "maximum": 1, "exclusiveMaximum": 1}) == {
        "type": "number",
        "maximum": 1,
        "exclusiveMaximum": True,
    }


def test_client_chosen_ids_are_required_in_the_post_model():
    schema = {
        "type": "object",
        "required": ["sku"],
        "properties": {"sku": {"type": "string", "minLength": 3}},
    }

    post = body_models(schema, "sku")["POST"]

    assert post["required"] == ["sku"]
    assert post["properties"]["sku"] == {"type": "string", "minLength": 3}


# --- construct options ----------------------------------------------------------------------------------


def test_cors_origin_reaches_the_preflight_the_handler_and_api_gateway_errors():
    app = new_app()
    stack = cdk.Stack(app, "S")
    WebApiBackend(stack, "Api", cors_allow_origin="https://shop.example.com")
    assembly, findings = synth_with_nag(app)
    template = Template.from_json(assembly.get_stack_by_name("S").template)

    assert findings == []
    assert _function_environment(template)["CORS_ALLOW_ORIGIN"] == "https://shop.example.com"
    preflights = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}})
    assert preflights
    for preflight in preflights.values():
        headers = preflight["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == "'https://shop.example.com'"
        allowed = headers["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")
        assert {"If-Match", "If-None-Match", "X-Amz-Date", "Authorization"} <= set(allowed)
    for response in template.find_resources("AWS::ApiGateway::GatewayResponse").values():
        assert response["Properties"]["ResponseParameters"] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example.com'"
        }


def test_cognito_user_pool_authorizes_every_route_instead_of_iam():
    stack = cdk.Stack(new_app(), "S")
    pool = cognito.UserPool(stack, "Users")

    WebApiBackend(stack, "Api", user_pool=pool, authorization_scopes=["items/write"])

    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApiGateway::Authorizer", 1)
    for method in _methods(template).values():
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["AuthorizationScopes"] == ["items/write"]


def test_throttling_limits_are_set_on_the_stage():
    stack = cdk.Stack(new_app(), "S")

    WebApiBackend(stack, "Api", throttle_rate_limit=10, throttle_burst_limit=20)

    Template.from_stack(stack).has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20})]},
    )


def test_routes_deploy_only_the_chosen_methods():
    stack = cdk.Stack(new_app(), "S")

    WebApiBackend(stack, "Api", resource_name="books", routes={"collection": ["GET"], "item": ["GET"]})

    template = Template.from_stack(stack)
    assert sorted(_methods(template)) == ["GET /books", "GET /books/{id}"]
    template.resource_count_is("AWS::ApiGateway::Model", 0)


def test_existing_table_is_used_and_is_the_only_one_granted():
    stack = cdk.Stack(new_app(), "S")
    table = dynamodb.TableV2(
        stack, "Books", partition_key=dynamodb.Attribute(name="isbn", type=dynamodb.AttributeType.STRING)
    )

    backend = WebApiBackend(stack, "Api", existing_table_obj=table, key_name="isbn")

    assert backend.table is table
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 1)
    assert _function_environment(template)["KEY_NAME"] == "isbn"


def test_table_with_a_customer_managed_key_lets_the_function_use_that_key_and_passes_nag():
    # The docstring offers table_props with a customer managed key; DynamoDB then answers AccessDenied to
    # every item call of a function that may not use the key.
    app = new_app()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    key = cdk.aws_kms.Key(stack, "ItemsKey", enable_key_rotation=True)

    WebApiBackend(
        stack, "Api", table_props={"encryption": dynamodb.TableEncryptionV2.customer_managed_key(key)}
    )

    _, findings = synth_with_nag(app)
    assert findings == []
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["kms:Decrypt", "kms:GenerateDataKey"]),
                                "Resource": stack.resolve(key.key_arn),
                            }
                        )
                    ]
                )
            }
        },
    )


def test_existing_table_with_another_partition_key_is_refused():
    stack = cdk.Stack(new_app(), "S")
    table = dynamodb.TableV2(
        stack, "Books", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )

    with pytest.raises(ConfigurationError) as error:
        WebApiBackend(stack, "Api", existing_table_obj=table)

    assert str(error.value) == (
        "WebApiBackend S/Api: existing_table_obj must have the string partition key 'id' and no sort key; "
        "it has HASH pk (S)"
    )
    assert error.value.code == "LambdaPatterns.WebApi.TableKey"


def test_existing_table_with_table_props_is_refused():
    stack = cdk.Stack(new_app(), "S")
    table = dynamodb.TableV2(
        stack, "Books", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
    )

    with pytest.raises(ConfigurationError) as error:
        WebApiBackend(stack, "Api", existing_table_obj=table, table_props={})

    assert str(error.value) == (
        "WebApiBackend S/Api: pass either existing_table_obj or table_props, not both "
        "(table_props configures a resource this construct creates; existing_table_obj replaces it)"
    )


@pytest.mark.parametrize(
    "props,message",
    [
        (
            {"item_schema": {"type": "array"}},
            'item_schema must be an object schema ({"type": "object", ...}): items are JSON objects',
        ),
        (
            {"item_schema": {"properties": {"name": {"type": "string"}}}},
            'item_schema must be an object schema ({"type": "object", ...}): items are JSON objects',
        ),
        (
            {"item_schema": {"type": "object", "oneOf": [{"required": ["a"]}]}},
            "item_schema: schema at '/' uses unsupported keywords: ['oneOf']",
        ),
        (
            {"item_schema": {"type": "object", "properties": {"version": {"type": "integer"}}}},
            "item_schema must not define 'version': the handler sets it on every write",
        ),
        (
            {"item_schema": {"type": "object", "properties": {"id": {"type": "integer"}}}},
            "item_schema gives 'id' the type 'integer', but it is the table's partition key, a string",
        ),
        (
            {
                "item_schema": {
                    "type": "object",
                    "properties": {"p": {"minimum": 0, "exclusiveMinimum": True}},
                }
            },
            "item_schema: schema at 'p': exclusiveMinimum must be a number (the draft-06 form), got True",
        ),
        (
            {"key_name": "version"},
            "key_name cannot be 'version': the handler keeps each item's version there",
        ),
        ({"key_name": ""}, "key_name must name the table's partition key"),
        ({"routes": {}}, "routes must enable at least one method"),
        ({"routes": {"collection": [], "item": []}}, "routes must enable at least one method"),
        (
            {"routes": {"item": ["POST"]}},
            "routes['item'] methods must be among ('GET', 'PUT', 'PATCH', 'DELETE'), got ['POST']",
        ),
        ({"routes": {"items": ["GET"]}}, "routes keys must be among ['collection', 'item'], got ['items']"),
        (
            {"resource_name": "shop/items"},
            "resource_name must be one path segment of letters, digits, '.', '_' or '-', got 'shop/items'",
        ),
        ({"page_size": 101}, "page_size must be between 1 and 100, got 101"),
        ({"max_body_bytes": 0}, "max_body_bytes must be between 1 and 10485760, got 0"),
        (
            {"cors_allow_origin": "https://shop.example.com/"},
            "cors_allow_origin must be '*' or one origin such as 'https://app.example.com' "
            "(scheme and host, no path), got 'https://shop.example.com/'",
        ),
    ],
)
def test_bad_web_api_props_are_refused_at_synth_with_a_clear_message(props, message):
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError) as error:
        WebApiBackend(stack, "Api", **props)

    assert str(error.value) == f"WebApiBackend S/Api: {message}"
    assert error.value.code.startswith("LambdaPatterns.WebApi.")


def test_a_schema_too_large_for_the_lambda_environment_is_refused():
    stack = cdk.Stack(new_app(), "S")
    schema = {
        "type": "object",
        "properties": {f"field{n}": {"type": "string", "description": "x" * 40} for n in range(80)},
    }

    with pytest.raises(
        ConfigurationError, match=r"above Lambda's 4096; ITEM_SCHEMA alone is \d+ bytes"
    ) as error:
        WebApiBackend(stack, "Api", item_schema=schema)

    assert error.value.code == "LambdaPatterns.WebApi.EnvironmentSize"


def test_trigger_request_schemas_must_name_one_of_its_routes():
    stack = cdk.Stack(new_app(), "S")
    function = ServerlessFunction(stack, "Fn", code=lambda_.Code.from_asset(str(FIXTURES / "echo")))

    with pytest.raises(ConfigurationError) as error:
        ApiGatewayTrigger(
            stack,
            "Http",
            function=function,
            routes={"/items": ["POST"]},
            request_schemas={"PUT /items": {"type": "object"}},
        )

    assert str(error.value) == (
        "ApiGatewayTrigger S/Http: request_schemas names ['PUT /items'], which are not among the routes "
        "['POST /items']"
    )
