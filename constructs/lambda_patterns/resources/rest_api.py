"""``SecureRestApi``: a REST API with access logs, execution logs, X-Ray, stage throttling and a request
validator, shared by every construct here that fronts something with API Gateway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Aws, RemovalPolicy, Stack, Stage, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.throttle import check_throttle
from lambda_patterns.jsii_reads import node_of, path_of
from lambda_patterns.nag import (
    STANDARD_PROFILE,
    RuleAcknowledgement,
    acknowledge_findings,
    acknowledge_profile,
    acknowledge_rule,
)
from lambda_patterns.profiles import compliance_rules, pin_profile, stack_key
from lambda_patterns.props import as_mapping

#: Context key naming (by stack name) the one stack of the app that holds the account-level setting
#: ``AWS::ApiGateway::Account`` and its CloudWatch role. Default: the first stack that builds a
#: ``SecureRestApi`` with ``create_cloudwatch_role=True``. Naming a stack that is not in the app leaves the
#: setting to whatever deploys that stack (another app, a platform team).
ACCOUNT_STACK_CONTEXT = "lambda-patterns:apiGatewayAccountStack"

#: What API Gateway does with the role: create its execution log groups and streams and write events to
#: them. AWS's managed AmazonAPIGatewayPushToCloudWatchLogs minus its reads of log events (GetLogEvents,
#: FilterLogEvents), which writing logs never needs.
_ACCOUNT_LOGGING_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)


def _environment(stack: Stack) -> tuple[str, str, str]:
    """Where an account setting applies: the stage (one cloud assembly), the account and the Region;
    environment-agnostic stacks share the account and Region they are deployed to."""
    stage = Stage.of(stack)
    return (
        path_of(stage) if stage is not None else "",
        "*" if Token.is_unresolved(stack.account) else stack.account,
        "*" if Token.is_unresolved(stack.region) else stack.region,
    )


def _account_settings(scope: Construct) -> list[apigw.CfnAccount]:
    """The ``AWS::ApiGateway::Account`` resources already defined for the environment of ``scope``."""
    stack = Stack.of(scope)
    where = _environment(stack)
    root = Stage.of(stack) or node_of(stack).root
    return [
        construct
        for construct in node_of(root).find_all()
        # isinstance is answered in Python; CfnResource.is_cfn_resource would be a jsii round trip per construct
        # of the app, for each API.
        if isinstance(construct, apigw.CfnAccount) and _environment(Stack.of(construct)) == where
    ]


def prepare_rest_api(scope: Construct, api: apigw.IRestApi) -> apigw.RequestValidator:
    """What every REST API that this library adds methods to gets, whether it created the API or was given
    it: a validator of bodies and parameters (created in ``scope``) for its methods, and the acknowledgement
    that it has no WAF web ACL."""
    validator = apigw.RequestValidator(
        scope,
        "Validator",
        rest_api=api,
        validate_request_body=True,
        validate_request_parameters=True,
    )
    acknowledge_findings(
        api,
        RuleAcknowledgement(
            "A WAF web ACL is account-specific; associate one with the stage (see README, 'API protection')",
            nag=("AwsSolutions-APIG3", *compliance_rules("APIGWAssociatedWithWAF")),
        ),
    )
    return validator


def access_log_group(scope: Construct, hardened: bool) -> logs.LogGroup:
    """An API stage's access log group ``AccessLogs`` in ``scope``, kept ``defaults.API_LOG_RETENTION``:
    encrypted with the stack's customer-managed key when ``hardened``, else with CloudWatch Logs' own key
    (acknowledged as the standard profile's choice)."""
    key = stack_key(scope) if hardened else None
    if key is not None:
        key.allow_log_groups()
    group = logs.LogGroup(
        scope,
        "AccessLogs",
        retention=defaults.API_LOG_RETENTION,
        removal_policy=defaults.LOG_REMOVAL_POLICY,
        encryption_key=key,
    )
    if key is None:
        acknowledge_profile(group, "log_group_service_key")
    return group


class SecureRestApi(Construct):
    """A regional REST API and its ``prod`` stage with the settings rule packs ask for.

    :param throttle_rate_limit: steady requests per second for the stage. Default: 100.
    :param throttle_burst_limit: Default: 200.
    :param cors_allow_origins: enable CORS preflight for these origins. Default: no CORS.
    :param rest_api_props: overrides for the ``RestApi``, merged over the defaults. Default: none.
    :param create_cloudwatch_role: make sure the account-level role API Gateway needs to write execution
        logs is set. The setting (``AWS::ApiGateway::Account``) is one per account and Region, so one stack
        of the app holds it: the first stack that asks, or the one named by the context key
        ``lambda-patterns:apiGatewayAccountStack``. Every other API, in that stack or another, creates none
        and waits for it (a dependency on that stack). ``False``: the account already has one. Default: True.
    :param profile: ``"hardened"`` encrypts the access logs with the stack's customer-managed key and gives
        the stage a client certificate. Default: the context ``lambda-patterns:profile``, else standard.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        throttle_rate_limit: int = defaults.API_THROTTLE_RATE,
        throttle_burst_limit: int = defaults.API_THROTTLE_BURST,
        cors_allow_origins: Sequence[str] | None = None,
        rest_api_props: Mapping[str, Any] | apigw.RestApiProps | None = None,
        create_cloudwatch_role: bool = True,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._hardened = pin_profile(self, profile) == "hardened"
        check_throttle(f"SecureRestApi {path_of(self)}", throttle_rate_limit, throttle_burst_limit)
        self._access_logs = access_log_group(self, self._hardened)
        # A client certificate lets an HTTP backend authenticate API Gateway; free, and asked for by the
        # compliance packs whatever the integrations are.
        certificate = (
            apigw.CfnClientCertificate(self, "ClientCertificate", description=f"{path_of(self)} stage")
            if self._hardened
            else None
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
                **({"client_certificate_id": certificate.attr_client_certificate_id} if certificate else {}),
            ),
        }
        if cors_allow_origins:
            props["default_cors_preflight_options"] = apigw.CorsOptions(
                allow_origins=list(cors_allow_origins), allow_methods=apigw.Cors.ALL_METHODS
            )
        props.update(as_mapping(rest_api_props, "rest_api_props"))
        self._api = apigw.RestApi(self, "Api", **props)
        # deploy=False in rest_api_props leaves the stage to the user.
        stage = node_of(self._api.deployment_stage).default_child if props.get("deploy", True) else None
        if stage is not None and certificate is None:
            acknowledge_findings(
                stage,
                RuleAcknowledgement(
                    f"{path_of(self)}'s integrations are Lambda proxy and AWS service integrations, which do "
                    "not verify a client certificate from API Gateway; a certificate is what the hardened "
                    "profile adds",
                    nag=compliance_rules("APIGWSSLEnabled"),
                ),
            )
        if stage is not None and not stage.cache_cluster_enabled:
            cache = STANDARD_PROFILE["stage_without_cache"]
            acknowledge_findings(
                stage,
                RuleAcknowledgement(
                    cache.reason,
                    nag=compliance_rules("APIGWCacheEnabledAndEncrypted"),
                    checkov=cache.checkov,
                ),
            )
        if cors_allow_origins:
            # Preflight OPTIONS methods must stay unauthenticated for browsers to send them.
            acknowledge_rule(
                self._api, "AwsSolutions-APIG4", "CORS preflight (OPTIONS) methods cannot carry credentials"
            )
            acknowledge_rule(
                self._api, "AwsSolutions-COG4", "CORS preflight (OPTIONS) methods cannot carry credentials"
            )
        self._validator = prepare_rest_api(self, self._api)
        self._wants_account_setting = create_cloudwatch_role
        self._account_setting: apigw.CfnAccount | None = None
        if create_cloudwatch_role:
            self._use_account_setting()

    def _use_account_setting(self) -> None:
        existing = _account_settings(self)
        if existing:
            self._wait_for(existing[0])
            return
        stack = Stack.of(self)
        owner = node_of(self).try_get_context(ACCOUNT_STACK_CONTEXT)
        if owner is not None and owner != stack.stack_name:
            # Another stack holds the setting; if it is in this app, its API makes this one wait for it.
            return
        account = self._build_account_logging_role()
        self._wait_for(account)
        root = Stage.of(stack) or node_of(stack).root
        for other in node_of(root).find_all():
            if (
                isinstance(other, SecureRestApi)
                and other is not self
                and other._wants_account_setting
                and other._account_setting is None
                and _environment(Stack.of(other)) == _environment(stack)
            ):
                other._wait_for(account)

    def _wait_for(self, account: apigw.CfnAccount) -> None:
        # A stage with execution logging fails to deploy until the account has the role; across stacks this
        # dependency becomes a dependency of this stack on the one holding the setting.
        self._account_setting = account
        node_of(self._api).add_dependency(account)

    def _build_account_logging_role(self) -> apigw.CfnAccount:
        log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets API Gateway write execution logs (account-level setting)",
            # Inline in the role itself, not a separate AWS::IAM::Policy: the retained role keeps it.
            inline_policies={
                "ExecutionLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=list(_ACCOUNT_LOGGING_ACTIONS), resources=[log_groups])
                    ]
                )
            },
        )
        # The setting is account-wide and outlives this stack: deleting the stack must not delete the role
        # (with its permissions) that another API's execution logging still relies on.
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        node_of(account).add_dependency(role)
        acknowledge_rule(
            role,
            "AwsSolutions-IAM5",
            "API Gateway creates one execution log group per API and stage at run time; their names are not "
            "known at deploy time, so the role reaches this account's and Region's log groups",
            applies_to=[f"Resource::{log_groups}"],
        )
        # Both profiles: the compliance packs flag the inline policy either way.
        acknowledge_findings(
            role,
            RuleAcknowledgement(
                "API Gateway's account-level logging role keeps its permissions inline: the role is "
                "retained when the stack is deleted, and its policy must stay with it",
                nag=compliance_rules("IAMNoInlinePolicy"),
            ),
        )
        return account

    @property
    def api(self) -> apigw.RestApi:
        """The ``apigateway.RestApi``."""
        return self._api

    @property
    def access_log_group(self) -> logs.LogGroup:
        """The stage's JSON access logs."""
        return self._access_logs

    @property
    def account_setting(self) -> apigw.CfnAccount | None:
        """The app's ``AWS::ApiGateway::Account`` this API waits for (in this stack or another), if any."""
        return self._account_setting

    @property
    def request_validator(self) -> apigw.RequestValidator:
        """Validates bodies and parameters; attach it to methods."""
        return self._validator
