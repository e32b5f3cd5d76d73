"""``WebApiBackend``: a REST API over one DynamoDB table, served by one Lambda function."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.web_api_body_size import check_max_body_bytes
from lambda_patterns.checks.web_api_cors import check_cors_origin
from lambda_patterns.checks.web_api_environment import check_environment_size
from lambda_patterns.checks.web_api_key import check_key_name
from lambda_patterns.checks.web_api_page_size import check_page_size
from lambda_patterns.checks.web_api_resource import check_resource_name
from lambda_patterns.checks.web_api_routes import check_routes
from lambda_patterns.checks.web_api_table_key import check_table_key
from lambda_patterns.checks.web_api_type import check_api_type
from lambda_patterns.jsii_reads import node_of
from lambda_patterns.operations.dashboard import CustomMetrics
from lambda_patterns.patterns.pattern_function import (
    PatternConstruct,
    build_pattern_function,
    function_environment,
)
from lambda_patterns.patterns.web_api_schema import VERSION_ATTRIBUTE, body_models, check_item_schema
from lambda_patterns.permissions import crud_items
from lambda_patterns.resources.tables import secure_table
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.triggers.api import ApiGatewayTrigger

if TYPE_CHECKING:
    from aws_cdk import aws_cognito as cognito  # annotations only, as in triggers.api

    from lambda_patterns.resources.http_api import SecureHttpApi

#: The error envelope of the handler (``{"error": {"code", "message", "field"}}``) for API Gateway's own
#: answers. Gateway response templates substitute variables only (no VTL); messageString comes quoted.
_ENVELOPE = '{"error": {"code": "%s", "message": $context.error.messageString, "field": null%s}}'

#: What the handler counts (EMF), per ``service``: one metric per status class.
WEB_API_METRICS = CustomMetrics(
    namespace=defaults.WEB_API_METRICS_NAMESPACE,
    names=("2xx", "3xx", "4xx", "5xx"),
    title="Responses per status class",
)


def _key_schema(table: dynamodb.ITable | dynamodb.ITableV2) -> tuple[dict[str, str], dict[str, str]] | None:
    """The table's key names by key type and attribute types by name; ``None`` for an imported table, whose
    key schema cannot be read at synth."""
    child = node_of(table).default_child
    if getattr(child, "key_schema", None) is None:
        return None
    stack = Stack.of(table)
    keys = {key["keyType"]: key["attributeName"] for key in stack.resolve(child.key_schema)}
    types = {a["attributeName"]: a["attributeType"] for a in stack.resolve(child.attribute_definitions) or []}
    return keys, types


#: How the function's description names each API type.
_API_NAMES = {"rest": "REST API", "http": "HTTP API"}


class WebApiBackend(PatternConstruct):
    """API Gateway (REST) -> one Lambda function -> one DynamoDB table: create, read, replace, merge-patch,
    delete and list the JSON items of one resource, with optimistic concurrency (ETag / If-Match).

    Routes, each of which ``routes`` can leave out (``<id>`` is the item's ``key_name``):

    - ``GET /<resource>``: a page of items, ``?limit=`` (1 to 100) and ``?cursor=`` from ``next_cursor``.
    - ``POST /<resource>``: create; 201 with ``Location`` and ``ETag``. The server makes a UUID id unless
      ``item_schema`` lists the key in ``required`` (clients then choose ids).
    - ``GET /<resource>/{id}``: the item and its ``ETag``; 304 for a matching ``If-None-Match``.
    - ``PUT /<resource>/{id}``: replace the fields; ``PATCH``: a JSON Merge Patch (RFC 7386);
      ``DELETE``: 204. Each honours ``If-Match`` (412 when stale); a lost race is 409.

    Bodies are checked twice against ``item_schema``: by API Gateway models (POST and PUT bodies against
    the schema; PATCH only for being an object, since a merge patch is judged once merged) before the
    function runs, then by the handler. Every error, API Gateway's own included, has the body
    ``{"error": {"code", "message", "field"}}``; validation failures have code ``validation_failed``,
    other API Gateway errors its response type (``ACCESS_DENIED``, ``THROTTLED``...).

    REST API rather than HTTP API: only REST APIs validate bodies against JSON-schema models, have usage
    plans and API keys, and accept a WAF web ACL. One function for every route rather than one per route:
    one warm pool (a request to any route warms it for all, so fewer cold starts), one role with one set of
    permissions, one log group and one deployment unit; routing inside the handler costs microseconds.

    The new table is on demand, has point-in-time recovery, is retained when the stack is deleted, and is
    encrypted with the AWS-managed key ``aws/dynamodb`` rather than an AWS-owned key: every use of the key
    is then recorded in CloudTrail and AWS Config's ``dynamodb-table-encrypted-kms`` rule is satisfied, at
    no monthly key charge and without a key policy to maintain.

    Besides its own props below, it takes those of every pattern (``alarm_topic``, ``deployment``,
    ``function_props`` and ``profile``: see :class:`PatternConstruct`).

    :param existing_table_obj: the items table; its partition key must be ``key_name`` (string) and it
        must have no sort key (checked at synth when the table is defined in this app). Default: a new table.
    :param table_props: overrides for the new ``TableV2`` (e.g. ``encryption`` with a customer-managed key,
        ``removal_policy``). Default: none.
    :param resource_name: the path segment of the collection. Default: ``items``.
    :param key_name: the items' key attribute, the table's partition key. Default: ``id``.
    :param item_schema: a JSON schema (a dict) for items: ``"type": "object"`` and the keywords the
        handler enforces (type, required, properties, additionalProperties, enum, minLength, maxLength,
        minimum, maximum, exclusiveMinimum and exclusiveMaximum as numbers, pattern, items, minItems,
        maxItems), checked at synth by the handler's own validator. It must not define ``version``.
        Default: any object.
    :param routes: which methods to deploy: ``{"collection": ("GET", "POST"), "item": ("GET", "PUT",
        "PATCH", "DELETE")}`` or a subset of it. Default: all of them.
    :param user_pool: authorize callers with this Cognito user pool (an ID token in ``Authorization``).
        Default: IAM authorization (SigV4-signed requests, ``execute-api:Invoke`` permission).
    :param authorization_scopes: OAuth scopes required with ``user_pool`` (an access token then).
        Default: none.
    :param throttle_rate_limit: steady requests per second for the stage. Default: 100.
    :param throttle_burst_limit: Default: 200.
    :param cors_allow_origin: the one origin (or ``*``) browsers may call from: preflight answers, the
        handler's ``Access-Control-Allow-Origin`` and API Gateway's error answers. Default: no CORS.
    :param max_body_bytes: larger bodies are refused with 413. Default: 64 KiB.
    :param page_size: items per page when ``limit`` is not given, at most 100. Default: 25.
    :param memory_size: Default: 512 MB.
    :param timeout: Default: 29 seconds, API Gateway's integration timeout.
    :param api_type: ``"rest"`` (an API Gateway REST API: request bodies validated against the item
        schema before the function runs, gateway error answers) or ``"http"`` (an HTTP API, payload format
        2.0: cheaper and faster, no request validation, so the handler's validation is the only gate).
        Default: ``"rest"``.
    :param rest_api_props: overrides for the ``RestApi`` (REST only). Default: none.
    :param create_cloudwatch_role: create the account-level role API Gateway writes execution logs with
        (one per account and Region). Default: True.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        existing_table_obj: dynamodb.ITable | dynamodb.ITableV2 | None = None,
        table_props: Mapping[str, Any] | dynamodb.TablePropsV2 | None = None,
        resource_name: str = defaults.WEB_API_RESOURCE,
        key_name: str = defaults.WEB_API_KEY_NAME,
        item_schema: Mapping[str, Any] | None = None,
        routes: Mapping[str, Sequence[str]] | None = None,
        user_pool: cognito.IUserPool | None = None,
        authorization_scopes: Sequence[str] | None = None,
        throttle_rate_limit: int = defaults.API_THROTTLE_RATE,
        throttle_burst_limit: int = defaults.API_THROTTLE_BURST,
        cors_allow_origin: str | None = None,
        max_body_bytes: int = defaults.WEB_API_MAX_BODY_BYTES,
        page_size: int = defaults.WEB_API_PAGE_SIZE,
        memory_size: int = defaults.MEMORY_MB,
        timeout: Duration = defaults.WEB_API_TIMEOUT,
        function_props: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
        api_type: str = defaults.WEB_API_TYPE,
        rest_api_props: Mapping[str, Any] | apigw.RestApiProps | None = None,
        create_cloudwatch_role: bool = True,
        alarm_topic: sns.ITopic | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id, alarm_topic, deployment, function_props, profile)
        schema = dict(defaults.WEB_API_ITEM_SCHEMA if item_schema is None else item_schema)
        routes = dict(defaults.WEB_API_ROUTES if routes is None else routes)

        # Validate.
        self._check_existing_or_props(table=(existing_table_obj, table_props))
        check_resource_name(self._where, resource_name)
        check_key_name(self._where, key_name, VERSION_ATTRIBUTE)
        check_max_body_bytes(self._where, max_body_bytes)
        check_page_size(self._where, page_size)
        check_cors_origin(self._where, cors_allow_origin)
        check_routes(self._where, routes, defaults.WEB_API_ROUTES)
        check_api_type(self._where, api_type, {"rest_api_props": rest_api_props})
        check_item_schema(self._where, schema, key_name)
        if existing_table_obj is not None and (key_schema := _key_schema(existing_table_obj)):
            check_table_key(self._where, key_name, *key_schema)

        # Build.
        self._table = existing_table_obj or secure_table(
            self, "Table", partition_key=key_name, overrides=table_props
        )
        environment = {
            "TABLE_NAME": self._table.table_name,
            "RESOURCE": resource_name,
            "KEY_NAME": key_name,
            "ITEM_SCHEMA": json.dumps(schema, separators=(",", ":")),
            "MAX_BODY_BYTES": str(max_body_bytes),
            "PAGE_SIZE": str(page_size),
            "METRICS_NAMESPACE": defaults.WEB_API_METRICS_NAMESPACE,
        }
        if cors_allow_origin:
            environment["CORS_ALLOW_ORIGIN"] = cors_allow_origin
        check_environment_size(self._where, function_environment(id, environment))
        self._pattern_function = build_pattern_function(
            self,
            handler="web_api_backend",
            description=f"Serves the /{resource_name} {_API_NAMES[api_type]} from its DynamoDB table",
            permissions=[crud_items(self._table)],
            environment=environment,
            **self._function_options,
            # API Gateway invokes synchronously: errors go back to the caller, a failure queue would stay empty.
            fixed_props={"memory_size": memory_size, "timeout": timeout, "async_failure": "none"},
        )

        # Wire.
        collection, item = f"/{resource_name}", f"/{resource_name}/{{id}}"
        paths = {"collection": collection, "item": item}
        api_routes = {paths[name]: tuple(methods) for name, methods in routes.items() if methods}
        self._api_type = api_type
        self._http_api: SecureHttpApi | None = None
        self._trigger: ApiGatewayTrigger | None = None
        if api_type == "http":
            # Imported here: aws_apigatewayv2 and its authorizers and integrations cost a REST-only app ~0.1 s
            # of every synth.
            from lambda_patterns.resources.http_api import SecureHttpApi

            self._http_api = SecureHttpApi(
                self,
                "HttpApi",
                throttle_rate_limit=throttle_rate_limit,
                throttle_burst_limit=throttle_burst_limit,
                cors_allow_origins=[cors_allow_origin] if cors_allow_origin else None,
                user_pool=user_pool,
                authorization_scopes=authorization_scopes,
            )
            self._http_api.add_lambda_routes(self.function, api_routes)
            return
        models = body_models(schema, key_name)
        request_schemas = {
            f"{method} {path}": models[method]
            for path, methods in api_routes.items()
            for method in methods
            if method in models
        }
        self._trigger = ApiGatewayTrigger(
            self,
            "Api",
            function=self.function,
            routes=api_routes,
            user_pool=user_pool,
            authorization_scopes=authorization_scopes,
            throttle_rate_limit=throttle_rate_limit,
            throttle_burst_limit=throttle_burst_limit,
            cors_allow_origins=[cors_allow_origin] if cors_allow_origin else None,
            rest_api_props=self._api_props(cors_allow_origin, api_routes, rest_api_props),
            create_cloudwatch_role=create_cloudwatch_role,
            request_schemas=request_schemas,
            request_content_types=defaults.WEB_API_CONTENT_TYPES,
        )
        self._add_error_responses(cors_allow_origin)

    @staticmethod
    def _api_props(
        origin: str | None, api_routes: Mapping[str, Sequence[str]], overrides: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        props: dict[str, Any] = {}
        if origin:
            # Preflight must allow the headers SigV4 and the handler's preconditions send.
            methods = sorted({method for methods in api_routes.values() for method in methods})
            props["default_cors_preflight_options"] = apigw.CorsOptions(
                allow_origins=[origin],
                allow_methods=methods,
                allow_headers=list(defaults.WEB_API_CORS_ALLOW_HEADERS),
                max_age=defaults.WEB_API_CORS_MAX_AGE,
            )
        props.update(overrides or {})
        return props or None

    def _add_error_responses(self, origin: str | None) -> None:
        # Without CORS headers a browser could not read why API Gateway refused its request.
        headers = {"Access-Control-Allow-Origin": f"'{origin}'"} if origin else None
        answers = (
            ("ValidationFailed", apigw.ResponseType.BAD_REQUEST_BODY, "validation_failed", ""),
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, "$context.error.responseType", ""),
            (
                "Default5xx",
                apigw.ResponseType.DEFAULT_5_XX,
                "$context.error.responseType",
                ', "request_id": "$context.requestId"',
            ),
        )
        for name, response_type, code, extra in answers:
            self.rest_api.add_gateway_response(
                name,
                type=response_type,
                templates={"application/json": _ENVELOPE % (code, extra)},
                response_headers=headers,
            )

    @property
    def table(self) -> dynamodb.ITable | dynamodb.ITableV2:
        """The items table: partition key ``key_name`` (string), plus the handler's ``version`` attribute."""
        return self._table

    @property
    def api_type(self) -> str:
        """``"rest"`` or ``"http"``."""
        return self._api_type

    @property
    def trigger(self) -> ApiGatewayTrigger:
        """The API Gateway trigger (API, validator, models) of a REST API."""
        if self._trigger is None:
            raise AttributeError(f"{self._where}: api_type='http' has no REST trigger; see http_api")
        return self._trigger

    @property
    def rest_api(self) -> apigw.RestApi:
        """The REST API (``api_type="rest"``)."""
        return self.trigger.rest_api

    @property
    def http_api(self) -> SecureHttpApi | None:
        """The HTTP API (``api_type="http"``), else None."""
        return self._http_api

    @property
    def access_log_group(self) -> logs.LogGroup | None:
        """The API's access log group (one JSON line per request)."""
        if self._http_api is not None:
            return self._http_api.access_log_group
        return self.trigger.access_log_group

    @property
    def url(self) -> str:
        """The stage's URL, e.g. ``https://<api>.execute-api.<region>.amazonaws.com/prod/``."""
        return self._http_api.url if self._http_api is not None else self.trigger.url
