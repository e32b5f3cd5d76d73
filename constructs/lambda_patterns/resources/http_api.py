"""``SecureHttpApi``: an API Gateway v2 HTTP API with its ``$default`` stage, route throttling, JSON access
logs, CORS preflight and IAM (SigV4) or Cognito JWT authorization on every route it adds.

HTTP APIs cost less and answer faster than REST APIs, but have no request validation: the integration's
own checks are the only gate on what reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.http_api_authorizer import check_jwt_settings
from lambda_patterns.checks.http_api_methods import check_route_methods
from lambda_patterns.checks.throttle import check_throttle
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.profiles import pin_profile
from lambda_patterns.props import as_mapping
from lambda_patterns.resources.rest_api import access_log_group

#: The access log record of each request: the fields of ``SecureRestApi``'s JSON access logs that HTTP APIs
#: have, plus the route, the integration's error and the authorizer's.
ACCESS_LOG_FIELDS: Mapping[str, str] = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "principal": "$context.authorizer.principalId",
}

_METHODS = {method.value: method for method in apigwv2.HttpMethod}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """Where the stage writes its access logs and in which format (the stage's ``IAccessLogSettings``)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(dict(ACCESS_LOG_FIELDS)))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat | None:
        return self._format


def _route_methods(methods: Sequence[str] | str) -> list[apigwv2.HttpMethod]:
    names = [methods] if isinstance(methods, str) else list(methods)
    check_route_methods("SecureHttpApi routes", names, _METHODS)
    return [_METHODS[name.upper()] for name in names]


class SecureHttpApi(Construct):
    """An HTTP API (API Gateway v2) and its ``$default`` stage with the settings rule packs ask for.

    The stage deploys automatically, throttles every route by default and writes JSON access logs to a
    log group with retention (encrypted with CloudWatch Logs' key, or the stack's customer-managed key in
    the hardened profile). Routes added with ``add_lambda_routes`` invoke a function with payload format
    2.0 and are authorized with IAM (SigV4), or with JWTs of a Cognito user pool when ``user_pool`` is given.

    :param throttle_rate_limit: steady requests per second for each route. Default: 100.
    :param throttle_burst_limit: Default: 200.
    :param cors_allow_origins: answer CORS preflight requests for these origins (API Gateway answers them
        itself, before any authorizer). Default: no CORS.
    :param cors_allow_headers: the request headers browsers may send. Default:
        ``defaults.WEB_API_CORS_ALLOW_HEADERS`` (``Authorization`` and SigV4's ``X-Amz-*`` among them).
    :param user_pool: authorize routes with JWTs this Cognito user pool issues instead of IAM. Default: IAM.
    :param user_pool_client: the app client whose tokens are accepted (the JWT audience). Needs
        ``user_pool``; pass one allowed the OAuth scopes when routes require ``authorization_scopes``.
        Default: a new client of ``user_pool`` without a secret that signs users in with SRP (no OAuth flows).
    :param authorization_scopes: OAuth scopes a JWT must carry on every route (``items/read``...). Needs
        ``user_pool``. Default: none (any valid token of the client).
    :param http_api_props: overrides for the ``HttpApi``, merged over the defaults. Default: none.
    :param profile: ``"hardened"`` encrypts the access logs with the stack's customer-managed key.
        Default: the context ``lambda-patterns:profile``, else standard.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        throttle_rate_limit: int = defaults.API_THROTTLE_RATE,
        throttle_burst_limit: int = defaults.API_THROTTLE_BURST,
        cors_allow_origins: Sequence[str] | None = None,
        cors_allow_headers: Sequence[str] = defaults.WEB_API_CORS_ALLOW_HEADERS,
        user_pool: cognito.IUserPool | None = None,
        user_pool_client: cognito.IUserPoolClient | None = None,
        authorization_scopes: Sequence[str] | None = None,
        http_api_props: Mapping[str, Any] | apigwv2.HttpApiProps | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        hardened = pin_profile(self, profile) == "hardened"
        check_throttle(f"SecureHttpApi {path_of(self)}", throttle_rate_limit, throttle_burst_limit)
        check_jwt_settings(
            f"SecureHttpApi {path_of(self)}", user_pool, user_pool_client, authorization_scopes
        )
        #: The stage's JSON access logs.
        self.access_log_group = access_log_group(self, hardened)
        props: dict[str, Any] = {"create_default_stage": False}
        if cors_allow_origins:
            props["cors_preflight"] = apigwv2.CorsPreflightOptions(
                allow_origins=list(cors_allow_origins),
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                allow_headers=list(cors_allow_headers),
                max_age=defaults.WEB_API_CORS_MAX_AGE,
            )
        props.update(as_mapping(http_api_props, "http_api_props"))
        self._api = apigwv2.HttpApi(self, "Api", **props)
        #: The ``$default`` stage.
        self.stage: apigwv2.HttpStage = self._api.add_stage(
            "DefaultStage",
            stage_name=defaults.HTTP_API_STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=throttle_rate_limit, burst_limit=throttle_burst_limit
            ),
            access_log_settings=_AccessLogSettings(self.access_log_group),
        )
        #: The app client whose JWTs are accepted (JWT authorization only).
        self.user_pool_client: cognito.IUserPoolClient | None = None
        self._scopes = list(authorization_scopes or [])
        #: What authorizes routes by default: ``HttpIamAuthorizer``, or ``HttpUserPoolAuthorizer``.
        self.authorizer: apigwv2.IHttpRouteAuthorizer
        if user_pool is None:
            self.authorizer = authorizers.HttpIamAuthorizer()
        else:
            # Without OAuth flows the client signs users in with SRP only: no implicit grant, no callback URL.
            self.user_pool_client = user_pool_client or cognito.UserPoolClient(
                self,
                "UserPoolClient",
                user_pool=user_pool,
                generate_secret=False,
                auth_flows=cognito.AuthFlow(user_srp=True),
                disable_o_auth=True,
                prevent_user_existence_errors=True,
            )
            self.authorizer = authorizers.HttpUserPoolAuthorizer(
                "UserPoolAuthorizer", user_pool, user_pool_clients=[self.user_pool_client]
            )
        self._integrations: dict[str, integrations.HttpLambdaIntegration] = {}

    def add_lambda_routes(
        self,
        function: lambda_.IFunction,
        routes: Mapping[str, Sequence[str] | str],
        authorizer: apigwv2.IHttpRouteAuthorizer | None = None,
        authorization_scopes: Sequence[str] | None = None,
    ) -> list[apigwv2.HttpRoute]:
        """Routes ``{path: methods}`` (``{"/items/{id}": ("GET", "PUT")}``, ``"ANY"``, ``"/{proxy+}"``) that
        invoke ``function`` with payload format 2.0 (a ``ServerlessFunction`` is invoked through its
        ``live`` alias when it has one). Returns the routes, in the order given.

        :param function: the function behind the routes.
        :param routes: path -> one HTTP method or several.
        :param authorizer: Default: the API's (``authorizer``: IAM, or the user pool's JWT authorizer).
        :param authorization_scopes: OAuth scopes a JWT must carry on these routes. Default: the API's
            ``authorization_scopes``.
        """
        integration = self._integration(function)
        if hasattr(function, "acknowledge_sync_invocation"):
            function.acknowledge_sync_invocation(
                f"the HTTP API {path_of(self)}, which returns the function's errors to the caller"
            )
        scopes = list(authorization_scopes) if authorization_scopes is not None else self._scopes
        added: list[apigwv2.HttpRoute] = []
        for path, methods in routes.items():
            added.extend(
                self._api.add_routes(
                    path=path,
                    methods=_route_methods(methods),
                    integration=integration,
                    authorizer=authorizer or self.authorizer,
                    **({"authorization_scopes": scopes} if scopes else {}),
                )
            )
        return added

    def _integration(self, function: lambda_.IFunction) -> integrations.HttpLambdaIntegration:
        """One integration per function, shared by its routes."""
        key = path_of(function)
        if key not in self._integrations:
            self._integrations[key] = integrations.HttpLambdaIntegration(
                f"Integration{len(self._integrations) or ''}",
                function,
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
        return self._integrations[key]

    @property
    def api(self) -> apigwv2.HttpApi:
        """The ``apigatewayv2.HttpApi``."""
        return self._api

    @property
    def url(self) -> str:
        """The ``$default`` stage's URL (``https://<id>.execute-api.<region>.amazonaws.com/``)."""
        return self.stage.url
