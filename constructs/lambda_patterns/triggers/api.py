"""``ApiGatewayTrigger``: a REST API whose routes invoke a function through the Lambda proxy integration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.authorization_scopes import check_authorization_scopes
from lambda_patterns.checks.exclusive import check_exclusive
from lambda_patterns.checks.request_schemas import check_request_schemas
from lambda_patterns.jsii_reads import node_of, path_of
from lambda_patterns.nag import acknowledge_rule
from lambda_patterns.resources.rest_api import SecureRestApi, prepare_rest_api
from lambda_patterns.steps.function import ServerlessFunction

if TYPE_CHECKING:
    # For the user_pool annotation only: aws_cognito costs ~15 ms to import, and a caller passing a pool has
    # imported it already.
    from aws_cdk import aws_cognito as cognito

DEFAULT_ROUTES: Mapping[str, Sequence[str]] = {"/": ("ANY",), "/{proxy+}": ("ANY",)}
#: API Gateway models are JSON Schema draft 4.
DRAFT4 = "http://json-schema.org/draft-04/schema#"
REQUEST_CONTENT_TYPES = ("application/json",)


class ApiGatewayTrigger(Construct):
    """A REST API in front of ``function``: access logs, execution logs, X-Ray, throttling, request
    validation and an authorizer on every method.

    REST rather than HTTP API: only REST APIs validate requests against models, attach WAF and use
    usage plans.

    :param function: the function behind every route.
    :param routes: path -> HTTP methods. Default: ``ANY`` on ``/`` and ``/{proxy+}``.
    :param user_pool: authorize callers with this Cognito user pool. Default: IAM (SigV4) authorization.
    :param authorization_scopes: OAuth scopes required with ``user_pool``. Default: none.
    :param throttle_rate_limit: steady requests per second for the stage. Default: 100.
    :param throttle_burst_limit: Default: 200.
    :param cors_allow_origins: enable CORS preflight for these origins. Default: no CORS.
    :param rest_api_props: overrides for the ``RestApi``, merged over the defaults. Default: none.
    :param existing_rest_api_obj: add the routes to this API instead. Default: a new API.
    :param create_cloudwatch_role: create the account-level role API Gateway needs to write execution logs
        (one per account and Region). Default: True.
    :param request_schemas: JSON schemas (draft 4, as API Gateway models are) that request bodies must
        satisfy, by route ``"METHOD /path"``, e.g. ``{"POST /items": {"type": "object", ...}}``. Each becomes
        a ``Model`` for ``request_content_types``, so the validator answers 400 before the function runs.
        Default: none; bodies reach the function unchecked.
    :param request_content_types: the media types the schemas apply to. Default: ``application/json``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        routes: Mapping[str, Sequence[str]] = DEFAULT_ROUTES,
        user_pool: cognito.IUserPool | None = None,
        authorization_scopes: Sequence[str] | None = None,
        throttle_rate_limit: int = defaults.API_THROTTLE_RATE,
        throttle_burst_limit: int = defaults.API_THROTTLE_BURST,
        cors_allow_origins: Sequence[str] | None = None,
        rest_api_props: Mapping[str, Any] | apigw.RestApiProps | None = None,
        existing_rest_api_obj: apigw.RestApi | None = None,
        create_cloudwatch_role: bool = True,
        request_schemas: Mapping[str, Mapping[str, Any]] | None = None,
        request_content_types: Sequence[str] = REQUEST_CONTENT_TYPES,
    ) -> None:
        super().__init__(scope, id)
        where = f"ApiGatewayTrigger {path_of(self)}"
        check_exclusive(
            where, "existing_rest_api_obj", existing_rest_api_obj, "rest_api_props", rest_api_props
        )
        check_authorization_scopes(where, authorization_scopes, user_pool)
        schemas = _route_schemas(where, routes, request_schemas or {}, request_content_types)

        self._access_logs: logs.LogGroup | None = None
        if existing_rest_api_obj is not None:
            self._api = existing_rest_api_obj
            self._validator = prepare_rest_api(self, self._api)
        else:
            secure = SecureRestApi(
                self,
                "Rest",
                throttle_rate_limit=throttle_rate_limit,
                throttle_burst_limit=throttle_burst_limit,
                cors_allow_origins=cors_allow_origins,
                rest_api_props=rest_api_props,
                create_cloudwatch_role=create_cloudwatch_role,
            )
            self._api, self._validator, self._access_logs = (
                secure.api,
                secure.request_validator,
                secure.access_log_group,
            )
        self._authorizer = (
            apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])
            if user_pool
            else None
        )
        self._models: dict[str, apigw.IModel] = {}
        integration = apigw.LambdaIntegration(function.target, proxy=True)
        for path, methods in routes.items():
            resource = self._api.root.resource_for_path(path)
            for method in methods:
                options = self._method_options(authorization_scopes)
                schema = schemas.get(_route_key(method, path))
                if schema is not None:
                    options["request_models"] = dict.fromkeys(request_content_types, self._model(schema))
                resource.add_method(method, integration, **options)
        function.acknowledge_sync_invocation(
            f"API Gateway ({path_of(self._api)}), which returns its errors to the caller"
        )
        if self._authorizer is None:
            acknowledge_rule(
                self._api,
                "AwsSolutions-COG4",
                "Methods use IAM (SigV4) authorization; pass user_pool= for a Cognito authorizer",
            )

    def _model(self, schema: Mapping[str, Any]) -> apigw.IModel:
        # One model per distinct schema, named by its content so that routes sharing a schema share it.
        document = {"$schema": DRAFT4, **schema}
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:8]
        if digest not in self._models:
            model = apigw.CfnModel(
                self,
                f"Model{digest}",
                rest_api_id=self._api.rest_api_id,
                content_type=REQUEST_CONTENT_TYPES[0],
                schema=document,
            )
            # As CDK's Model does: a stage only serves a new schema after a new deployment.
            deployment = self._api.latest_deployment
            if deployment is not None:
                node_of(deployment).add_dependency(model)
                deployment.add_to_logical_id({"model": document})
            self._models[digest] = apigw.Model.from_model_name(self, f"Model{digest}Ref", model.ref)
        return self._models[digest]

    def _method_options(self, scopes: Sequence[str] | None) -> dict[str, Any]:
        if self._authorizer is not None:
            return {
                "authorization_type": apigw.AuthorizationType.COGNITO,
                "authorizer": self._authorizer,
                "authorization_scopes": list(scopes) if scopes else None,
                "request_validator": self._validator,
            }
        return {"authorization_type": apigw.AuthorizationType.IAM, "request_validator": self._validator}

    @property
    def rest_api(self) -> apigw.RestApi:
        """The REST API the routes were added to."""
        return self._api

    @property
    def request_models(self) -> tuple[apigw.IModel, ...]:
        """The models made from ``request_schemas``, one per distinct schema."""
        return tuple(self._models.values())

    @property
    def access_log_group(self) -> logs.LogGroup | None:
        """The stage's access logs, when this construct created the API."""
        return self._access_logs

    @property
    def request_validator(self) -> apigw.RequestValidator:
        """The validator every method uses."""
        return self._validator

    @property
    def url(self) -> str:
        """The stage's base URL."""
        return self._api.url


def _route_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def _split_route(key: str) -> tuple[str, str]:
    method, _, path = key.strip().partition(" ")
    return method, path.strip()


def _route_schemas(
    where: str,
    routes: Mapping[str, Sequence[str]],
    schemas: Mapping[str, Mapping[str, Any]],
    content_types: Sequence[str],
) -> dict[str, Mapping[str, Any]]:
    """``schemas`` keyed as the routes are, after checking that each names a route of this API."""
    known = {_route_key(method, path) for path, methods in routes.items() for method in methods}
    keyed = {_route_key(*_split_route(key)): schema for key, schema in schemas.items()}
    check_request_schemas(where, known, keyed, content_types)
    return keyed
