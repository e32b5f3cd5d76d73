"""API Gateway: each ``AWS::ApiGateway::RestApi`` with its resources, methods, stage, models, request
validators and gateway responses becomes an ``api_spec.RestApiSpec`` the app serves on a local port."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.api_spec import (
    GATEWAY_ERRORS,
    GatewayResponse,
    IntegrationResponse,
    Method,
    RestApiSpec,
    Route,
    function_arn_of,
    resource_paths,
    service_action_of,
)
from lambda_patterns.local.assembly import Resource, Stack
from lambda_patterns.local.intrinsics import Scope, Unresolvable, resolve
from lambda_patterns.local.naming import static_headers
from lambda_patterns.local.registry import register
from lambda_patterns.local.services import EMULATED_ACTIONS
from lambda_patterns.local.validation import BodyValidator, UnsupportedModel
from lambda_patterns.local.vtl import Template, UnsupportedTemplate, compile_template

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")

METHOD_HEADER = "method.response.header."
GATEWAY_HEADER = "gatewayresponse.header."


#: What a REST API is made of (``AWS::ApiGateway::<part>``): the family's types, as ``api_spec`` reads each.
API_PARTS = ("RestApi", "Resource", "Method", "Stage", "Model", "RequestValidator", "GatewayResponse")


@register(*(f"AWS::ApiGateway::{part}" for part in API_PARTS), order=80)
def wire_apigateway(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """A local server for every REST API of the stack, in template order."""
    for resource in stack.resources("AWS::ApiGateway::RestApi"):
        app.serve_api(api_spec(app, stack, resource, scope))


def _of_api(stack: Stack, scope: Scope, api_id: str, resource_type: str) -> list[Resource]:
    """The stack's resources of ``resource_type`` that belong to the API (their ``RestApiId``)."""
    return [
        item
        for item in stack.resources(resource_type)
        if resolve(item.properties.get("RestApiId"), scope) == api_id
    ]


def api_spec(app: LocalApp, stack: Stack, resource: Resource, scope: Scope) -> RestApiSpec:
    """The REST API's routes (methods the runner emulates; the others are reported skipped) and settings."""
    api_attributes = scope.attributes[resource.logical_id]
    api_id = api_attributes["Ref"]
    resources: dict[str, tuple[str, str]] = {}
    for item in _of_api(stack, scope, api_id, "AWS::ApiGateway::Resource"):
        resources[scope.attributes[item.logical_id]["Ref"]] = (
            resolve(item.properties["ParentId"], scope),
            item.properties["PathPart"],
        )
    paths = resource_paths(api_attributes["RootResourceId"], resources)
    routes = {resource_id: Route(path, resource_id=resource_id) for resource_id, path in paths.items()}
    models, body_validators = _api_models(stack, scope, api_id)
    unchecked: set[str] = set()
    for item in stack.resources("AWS::ApiGateway::Method"):
        props = item.properties
        try:
            if resolve(props.get("RestApiId"), scope) != api_id:
                continue
            method = _method(app, item, scope)
            if method is not None:
                method.body_validator = _body_validator(item, scope, models, body_validators)
        except (Unresolvable, UnsupportedModel) as error:
            app.skipped.append(f"{item.path}: {error}")
            continue
        if method is None:
            continue
        if method.authorization not in ("NONE", None):
            unchecked.add(method.authorization)
        routes[resolve(props["ResourceId"], scope)].methods[method.http_method] = method
    stage, stage_variables = "prod", {}
    for item in _of_api(stack, scope, api_id, "AWS::ApiGateway::Stage"):
        stage = item.properties.get("StageName", stage)
        stage_variables = resolve(item.properties.get("Variables") or {}, scope)
    gateway_responses = _gateway_responses(app, stack, scope, api_id)
    if unchecked:
        log.warning(
            "%s: %s authorization cannot be checked locally: requests pass through unauthenticated",
            resource.path,
            " and ".join(sorted(unchecked)),
        )
    return RestApiSpec(
        stack=stack.name,
        logical_id=resource.logical_id,
        api_id=api_id,
        name=resource.path.removesuffix("/Resource"),
        stage=stage,
        routes=[route for route in routes.values() if route.methods],
        binary_media_types=list(resource.properties.get("BinaryMediaTypes") or []),
        gateway_responses=gateway_responses,
        stage_variables={str(key): str(value) for key, value in stage_variables.items()},
    )


def _templates(templates: Any, scope: Scope, **rules: Any) -> dict[str, Template]:
    """Media type (lowercase) -> compiled mapping template; ``UnsupportedTemplate`` for one the runner cannot
    render as API Gateway does (``rules``: ``vtl.compile_template``'s, from the method)."""
    return {
        kind.lower(): compile_template(str(text), **rules)
        for kind, text in resolve(templates or {}, scope).items()
    }


def _gateway_responses(app: LocalApp, stack: Stack, scope: Scope, api_id: str) -> dict[str, GatewayResponse]:
    """The API's gateway responses the runner applies (to the errors it answers itself)."""
    applied = {*GATEWAY_ERRORS, "DEFAULT_4XX"}
    found: dict[str, GatewayResponse] = {}
    for item in _of_api(stack, scope, api_id, "AWS::ApiGateway::GatewayResponse"):
        props = item.properties
        kind = str(props.get("ResponseType"))
        if kind not in applied:
            log.info("%s: gateway response %s is not applied locally", item.path, kind)
            continue
        try:
            templates = _templates(props.get("ResponseTemplates"), scope, gateway=True)
        except UnsupportedTemplate as error:
            app.skipped.append(f"{item.path}: gateway response {kind} (API Gateway's default used): {error}")
            continue
        found[kind] = GatewayResponse(
            status=int(props["StatusCode"]) if props.get("StatusCode") else None,
            templates=templates,
            headers=static_headers(props.get("ResponseParameters"), GATEWAY_HEADER),
        )
    return found


def _api_models(
    stack: Stack, scope: Scope, api_id: str
) -> tuple[dict[str, Any], dict[str, tuple[bool, bool]]]:
    """The API's model schemas by name, and its request validators: id -> (bodies, parameters)."""
    models: dict[str, Any] = {}
    for item in _of_api(stack, scope, api_id, "AWS::ApiGateway::Model"):
        models[scope.attributes[item.logical_id]["Ref"]] = resolve(item.properties.get("Schema"), scope)
    validators: dict[str, tuple[bool, bool]] = {}
    for item in _of_api(stack, scope, api_id, "AWS::ApiGateway::RequestValidator"):
        validators[scope.attributes[item.logical_id]["Ref"]] = (
            bool(item.properties.get("ValidateRequestBody")),
            bool(item.properties.get("ValidateRequestParameters")),
        )
    return models, validators


def _body_validator(
    item: Resource,
    scope: Scope,
    models: dict[str, Any],
    validators: dict[str, tuple[bool, bool]],
) -> BodyValidator | None:
    """What checks the method's bodies: its models, when its request validator validates bodies."""
    props = item.properties
    validator_id = props.get("RequestValidatorId")
    bodies, parameters = (
        validators.get(resolve(validator_id, scope), (False, False)) if validator_id else (False, False)
    )
    if parameters and any(props.get("RequestParameters", {}).values()):
        log.warning("%s: required request parameters are not checked locally", item.path)
    request_models = resolve(props.get("RequestModels") or {}, scope)
    if not bodies or not request_models:
        return None
    schemas = {}
    for kind, name in request_models.items():
        if name == "Empty" or name not in models:
            continue  # API Gateway's built-in Empty model accepts anything.
        schemas[kind] = models[name]
    if not schemas:
        return None
    try:
        return BodyValidator(schemas)
    except ImportError:
        log.warning(
            "%s: request bodies are NOT validated: jsonschema is not installed (a development dependency; "
            "pip install -r requirements-dev.txt)",
            item.path,
        )
        return None


def _method(app: LocalApp, item: Resource, scope: Scope) -> Method | None:
    props = item.properties
    integration = props.get("Integration") or {}
    kind = integration.get("Type", "")
    http_method = props.get("HttpMethod", "ANY")
    authorization = props.get("AuthorizationType", "NONE")
    if kind == "AWS_PROXY":
        uri = str(resolve(integration.get("Uri"), scope))
        function_arn = function_arn_of(uri)
        if function_arn is None or app.local_worker(function_arn) is None:
            app.skipped.append(f"{item.path}: integration {uri} does not invoke a local function")
            return None
        return Method(http_method, kind, authorization, function_arn=function_arn)
    if kind == "MOCK":
        responses = integration.get("IntegrationResponses") or [{}]
        return Method(
            http_method,
            kind,
            authorization,
            mock_status=int(responses[0].get("StatusCode", 200)),
            mock_headers=static_headers(
                responses[0].get("ResponseParameters"), METHOD_HEADER, quoted_only=False
            ),
        )
    if kind == "AWS":
        return _service_method(app, item, scope, integration, http_method, authorization)
    app.skipped.append(f"{item.path}: integration type {kind or 'none'} is not emulated")
    return None


def _service_method(
    app: LocalApp,
    item: Resource,
    scope: Scope,
    integration: dict[str, Any],
    http_method: str,
    authorization: str,
) -> Method | None:
    """An AWS service integration the runner performs (Kinesis PutRecord/PutRecords), its templates
    compiled by ``vtl``; anything else is skipped, named."""
    uri = str(resolve(integration.get("Uri"), scope))
    found = service_action_of(uri)
    if found is None or found not in EMULATED_ACTIONS:
        emulated = ", ".join(f"{service}:{action}" for service, action in sorted(EMULATED_ACTIONS))
        app.skipped.append(f"{item.path}: AWS service integration {uri} is not emulated (only {emulated})")
        return None
    rules = {
        "authorization": authorization,
        "api_key_required": bool(resolve(item.properties.get("ApiKeyRequired", False), scope)),
    }
    try:
        templates = _templates(integration.get("RequestTemplates"), scope, **rules)
        responses = [
            IntegrationResponse(
                status=int(entry.get("StatusCode", 200)),
                pattern=entry.get("SelectionPattern") or None,
                templates=_templates(entry.get("ResponseTemplates"), scope, **rules),
                headers=static_headers(entry.get("ResponseParameters"), METHOD_HEADER),
            )
            for entry in integration.get("IntegrationResponses") or []
        ]
    except UnsupportedTemplate as error:
        app.skipped.append(
            f"{item.path}: the mapping template of {found[0]}:{found[1]} cannot be rendered locally as API "
            f"Gateway does: {error}"
        )
        return None
    log.info("%s: AWS service integration %s:%s emulated on moto", item.path, *found)
    return Method(
        http_method,
        "AWS",
        authorization,
        service=found[0],
        action=found[1],
        request_templates=templates,
        passthrough=str(integration.get("PassthroughBehavior", "WHEN_NO_MATCH")),
        responses=responses,
    )
