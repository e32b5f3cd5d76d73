"""``SecureRestApi``: a REST API with access logs, execution logs, X-Ray, stage throttling and a request
validator, shared by every construct here that fronts something with API Gateway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.nag import acknowledge_rule


class SecureRestApi(Construct):
    """A regional REST API and its ``prod`` stage with the settings rule packs ask for.

    :param throttle_rate_limit: steady requests per second for the stage. Default: 100.
    :param throttle_burst_limit: Default: 200.
    :param cors_allow_origins: enable CORS preflight for these origins. Default: no CORS.
    :param rest_api_props: overrides for the ``RestApi``, merged over the defaults. Default: none.
    :param create_cloudwatch_role: create the account-level role API Gateway needs to write execution logs
        (one per account and Region). Default: True.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        throttle_rate_limit: int = defaults.API_THROTTLE_RATE,
        throttle_burst_limit: int = defaults.API_THROTTLE_BURST,
        cors_allow_origins: Sequence[str] | None = None,
        rest_api_props: Mapping[str, Any] | None = None,
        create_cloudwatch_role: bool = True,
    ) -> None:
        super().__init__(scope, id)
        if throttle_rate_limit <= 0 or throttle_burst_limit <= 0:
            raise ConfigurationError(f"SecureRestApi {self.node.path}: throttle limits must be positive")
        self._access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=defaults.API_LOG_RETENTION,
            removal_policy=defaults.LOG_REMOVAL_POLICY,
        )
        props: dict[str, Any] = {
            "cloud_watch_role": False,
            "endpoint_types": [apigw.EndpointType.REGIONAL],
            "deploy_options": apigw.StageOptions(
                stage_name=defaults.API_STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self._access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
            ),
        }
        if cors_allow_origins:
            props["default_cors_preflight_options"] = apigw.CorsOptions(
                allow_origins=list(cors_allow_origins), allow_methods=apigw.Cors.ALL_METHODS
            )
        props.update(rest_api_props or {})
        self._api = apigw.RestApi(self, "Api", **props)
        self._validator = apigw.RequestValidator(
            self,
            "Validator",
            rest_api=self._api,
            validate_request_body=True,
            validate_request_parameters=True,
        )
        if cors_allow_origins:
            # Preflight OPTIONS methods must stay unauthenticated for browsers to send them.
            acknowledge_rule(
                self._api, "AwsSolutions-APIG4", "CORS preflight (OPTIONS) methods cannot carry credentials"
            )
            acknowledge_rule(
                self._api, "AwsSolutions-COG4", "CORS preflight (OPTIONS) methods cannot carry credentials"
            )
        acknowledge_rule(
            self._api,
            "AwsSolutions-APIG3",
            "A WAF web ACL is account-specific; associate one with the stage (see README, 'API protection')",
        )
        if create_cloudwatch_role:
            self._build_account_logging_role()

    def _build_account_logging_role(self) -> None:
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets API Gateway write execution logs (account-level setting)",
        )
        log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ],
                resources=[log_groups],
            )
        )
        # The setting is account-wide and outlives this stack: deleting the stack must not delete the role
        # that another API's execution logging still relies on.
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.node.add_dependency(role)
        self._api.node.add_dependency(account)
        acknowledge_rule(
            role,
            "AwsSolutions-IAM5",
            "API Gateway creates one execution log group per API and stage at run time; their names are not "
            "known at deploy time, so the role reaches this account's and Region's log groups",
            applies_to=[f"Resource::{log_groups}"],
        )

    @property
    def api(self) -> apigw.RestApi:
        """The ``apigateway.RestApi``."""
        return self._api

    @property
    def access_log_group(self) -> logs.LogGroup:
        """The stage's JSON access logs."""
        return self._access_logs

    @property
    def request_validator(self) -> apigw.RequestValidator:
        """Validates bodies and parameters; attach it to methods."""
        return self._validator
